#!/usr/bin/python3
"""The engine's learning step written in PyTorch, on the events reel-bench-rec
dumped (--dump FILE), for bench/rec.sh.

The same model as src/rec/model.h: a watch head (global mean, user and video
biases with 1/(n + 4) steps, hashtag prior left out) and an engagement head
(logistic, video engagement bias, user and video embeddings, dim 32, SGD
lr 0.1, L2 0.003) with 4 uniformly drawn negatives per engagement. Embeddings
are float32 here (the engine stores users as int8). Only the model's
arithmetic is timed; the engine's figure also includes sessions, seen filters,
co-engagement, trending, the index refresh and the id tables.

Two ways of running it:
  batched  mini-batches of --batch events, gradients of a batch computed from
           the parameters at its start and applied with index_add_ — how one
           would make PyTorch fast (and a looser, staler update than online);
  online   one event at a time, like the engine, on the first --online events.
Prints events/s (median of --runs) for both, on one thread.

Usage: rec_torch.py EVENTS_FILE [--users N] [--videos N] [--runs N]
"""
import argparse
import statistics
import sys
import time

import numpy as np
import torch

IMPRESSION, PLAY, WATCH, SKIP, NOT_INTERESTED = 1, 2, 3, 4, 5
LIKE, UNLIKE, SHARE, COMMENT, FOLLOW = 6, 7, 8, 9, 10
DIM, LR, REG, PRIOR, CAP, ENGAGED, NEGATIVES = 32, 0.1, 0.003, 4.0, 2.5, 0.8, 4


class Model:
    def __init__(self, users, videos, seed=1):
        g = torch.Generator().manual_seed(seed)
        self.P = (torch.rand(users, DIM, generator=g) - 0.5) * 0.1
        self.Q = (torch.rand(videos, DIM, generator=g) - 0.5) * 0.1
        self.bu = torch.zeros(users)
        self.nu = torch.zeros(users)
        self.bv = torch.zeros(videos)
        self.nv = torch.zeros(videos)
        self.eb = torch.zeros(videos)
        self.en = torch.zeros(videos)
        self.mu = 0.0
        self.mu_w = 0.0
        self.videos = videos
        self.gen = torch.Generator().manual_seed(seed + 1)

    def batch(self, u, v, t, r):
        """One mini-batch of events (tensors of equal length)."""
        # Watch head: watches (capped ratio), skips and "not interested" (0).
        wmask = (t == WATCH) | (t == SKIP) | (t == NOT_INTERESTED)
        if wmask.any():
            wu, wv = u[wmask], v[wmask]
            y = torch.where(t[wmask] == WATCH, r[wmask].clamp(max=CAP), torch.zeros(()))
            w = torch.where(t[wmask] == NOT_INTERESTED, torch.full_like(y, 4.0),
                            torch.ones_like(y))
            err = y - (self.mu + self.bu[wu] + self.bv[wv])
            self.mu_w += float(w.sum())
            self.mu += float(((y - self.mu) * w).sum()) / self.mu_w
            self.bv.index_add_(0, wv, w * err / (self.nv[wv] + PRIOR))
            self.nv.index_add_(0, wv, w)
            self.bu.index_add_(0, wu, w * err / (self.nu[wu] + PRIOR))
            self.nu.index_add_(0, wu, torch.ones_like(w))
        # Engagement head: labels, then the sampled negatives of the positives.
        engaged = ((t == WATCH) & (r >= ENGAGED)) | (t == LIKE) | (t == SHARE) | \
                  (t == COMMENT) | (t == FOLLOW)
        negative = ((t == WATCH) & (r < ENGAGED)) | (t == SKIP) | (t == NOT_INTERESTED)
        emask = engaged | negative
        if not emask.any():
            return
        eu, ev = u[emask], v[emask]
        label = engaged[emask].float()
        weight = torch.where(t[emask] == NOT_INTERESTED, torch.full_like(label, 4.0),
                             torch.ones_like(label))
        pos_u = u[engaged]
        neg_u = pos_u.repeat_interleave(NEGATIVES)
        neg_v = torch.randint(0, self.videos, (neg_u.numel(),), generator=self.gen)
        all_u = torch.cat([eu, neg_u])
        all_v = torch.cat([ev, neg_v])
        all_l = torch.cat([label, torch.zeros(neg_u.numel())])
        all_w = torch.cat([weight, torch.ones(neg_u.numel())])
        pu, qv = self.P[all_u], self.Q[all_v]
        z = self.eb[all_v] + (pu * qv).sum(1)
        g = all_w * (all_l - torch.sigmoid(z))
        n_real = eu.numel()
        self.eb.index_add_(0, ev, (g[:n_real] - REG * self.eb[ev]) / (self.en[ev] + PRIOR))
        self.en.index_add_(0, ev, weight)
        self.P.index_add_(0, all_u, LR * (g[:, None] * qv - REG * pu))
        self.Q.index_add_(0, all_v, LR * (g[:, None] * pu - REG * qv))

    def online(self, u, v, t, r):
        """One event, as the engine applies it."""
        if t in (WATCH, SKIP, NOT_INTERESTED):
            y = min(r, CAP) if t == WATCH else 0.0
            w = 4.0 if t == NOT_INTERESTED else 1.0
            err = y - (self.mu + float(self.bu[u]) + float(self.bv[v]))
            self.mu_w += w
            self.mu += (y - self.mu) * w / self.mu_w
            self.bv[v] += w * err / (float(self.nv[v]) + PRIOR)
            self.nv[v] += w
            self.bu[u] += w * err / (float(self.nu[u]) + PRIOR)
            self.nu[u] += 1
        engaged = (t == WATCH and r >= ENGAGED) or t in (LIKE, SHARE, COMMENT, FOLLOW)
        negative = (t == WATCH and r < ENGAGED) or t in (SKIP, NOT_INTERESTED)
        if not (engaged or negative):
            return
        steps = [(v, 1.0 if engaged else 0.0, 4.0 if t == NOT_INTERESTED else 1.0, False)]
        if engaged:
            for nv in torch.randint(0, self.videos, (NEGATIVES,), generator=self.gen).tolist():
                steps.append((nv, 0.0, 1.0, True))
        for vid, label, w, sampled in steps:
            pu, qv = self.P[u], self.Q[vid]
            z = float(self.eb[vid]) + float(torch.dot(pu, qv))
            g = w * (label - 1.0 / (1.0 + np.exp(-z)))
            if not sampled:
                self.eb[vid] += (g - REG * float(self.eb[vid])) / (float(self.en[vid]) + PRIOR)
                self.en[vid] += w
            new_p = pu + LR * (g * qv - REG * pu)
            self.Q[vid] = qv + LR * (g * pu - REG * qv)
            self.P[u] = new_p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("events")
    ap.add_argument("--users", type=int, default=10_000_000)
    ap.add_argument("--videos", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=4096)
    ap.add_argument("--online", type=int, default=20000)
    a = ap.parse_args()
    torch.set_num_threads(1)
    rec = np.dtype([("user", "<u4"), ("video", "<u4"), ("type", "u1"), ("pad", "u1", 3),
                    ("ratio", "<f4")])
    data = np.fromfile(a.events, dtype=rec)
    if data.size == 0:
        sys.exit("rec_torch.py: no events in " + a.events)
    u = torch.from_numpy(data["user"].astype(np.int64))
    v = torch.from_numpy(data["video"].astype(np.int64))
    t = torch.from_numpy(data["type"].astype(np.int64))
    r = torch.from_numpy(data["ratio"].astype(np.float32))
    n = data.size
    rates = []
    for run in range(a.runs):
        m = Model(a.users, a.videos, seed=run + 1)
        start = time.perf_counter()
        for i in range(0, n, a.batch):
            m.batch(u[i:i + a.batch], v[i:i + a.batch], t[i:i + a.batch], r[i:i + a.batch])
        rates.append(n / (time.perf_counter() - start))
    print(f"pytorch {torch.__version__}, 1 thread, {n} events")
    print(f"TORCH_BATCHED_EVENTS_PER_S {statistics.median(rates):.0f}")
    m = Model(a.users, a.videos, seed=9)
    k = min(a.online, n)
    uu, vv, tt, rr = u[:k].tolist(), v[:k].tolist(), t[:k].tolist(), r[:k].tolist()
    start = time.perf_counter()
    for i in range(k):
        m.online(uu[i], vv[i], tt[i], rr[i])
    print(f"TORCH_ONLINE_EVENTS_PER_S {k / (time.perf_counter() - start):.0f}")


if __name__ == "__main__":
    main()
