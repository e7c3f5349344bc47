/*
 * store_sqlite_crypt.c — encryption at rest of the most sensitive personal
 * fields (format in sqlite_int.h). The associated data binds each value to
 * "reel-field-v1", its column name and its row id, so swapping sealed values
 * between users or columns makes decryption fail instead of silently
 * returning someone else's e-mail address.
 */
#include "store/sqlite_int.h"

#include "core/alloc.h"
#include "core/log.h"

#include <sodium.h>
#include <string.h>

#define SEAL_VERSION 1
#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES

static size_t make_ad(unsigned char *ad, size_t size, const char *column, uint64_t row_id)
{
    static const char prefix[] = "reel-field-v1";
    size_t col_len = strlen(column);
    size_t n = sizeof prefix - 1;
    if (n + 1 + col_len + 8 > size)
        return 0;
    memcpy(ad, prefix, n);
    ad[n++] = 0;
    memcpy(ad + n, column, col_len);
    n += col_len;
    for (int i = 0; i < 8; i++)
        ad[n++] = (unsigned char)(row_id >> (56 - 8 * i));
    return n;
}

int sq_bind_sealed(struct store *store, sqlite3_stmt *stmt, int col, const char *column,
                   uint64_t row_id, const char *text)
{
    if (!store->has_field_key)
        return STORE_ERROR;
    size_t len = strlen(text);
    size_t total = 1 + NONCE_BYTES + len + TAG_BYTES;
    unsigned char *blob = reel_malloc(total);
    unsigned char ad[128];
    size_t ad_len = make_ad(ad, sizeof ad, column, row_id);
    if (!blob || !ad_len) {
        reel_free(blob);
        return STORE_ERROR;
    }
    blob[0] = SEAL_VERSION;
    randombytes_buf(blob + 1, NONCE_BYTES);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(blob + 1 + NONCE_BYTES, &clen,
                                               (const unsigned char *)text, len, ad, ad_len, NULL,
                                               blob + 1, store->field_key);
    int rc = sqlite3_bind_blob(stmt, col, blob, (int)total, SQLITE_TRANSIENT);
    reel_free(blob);
    return rc == SQLITE_OK ? STORE_OK : STORE_ERROR;
}

int sq_column_opened(struct store *store, sqlite3_stmt *stmt, int col, const char *column,
                     uint64_t row_id, char *out, size_t size)
{
    out[0] = '\0';
    const unsigned char *blob = sqlite3_column_blob(stmt, col);
    int n = sqlite3_column_bytes(stmt, col);
    if (!store->has_field_key || !blob || n < (int)(1 + NONCE_BYTES + TAG_BYTES) ||
        blob[0] != SEAL_VERSION)
        return STORE_ERROR;
    size_t plain_len = (size_t)n - 1 - NONCE_BYTES - TAG_BYTES;
    if (plain_len + 1 > size)
        return STORE_ERROR;
    unsigned char ad[128];
    size_t ad_len = make_ad(ad, sizeof ad, column, row_id);
    unsigned long long got = 0;
    if (!ad_len || crypto_aead_xchacha20poly1305_ietf_decrypt(
                       (unsigned char *)out, &got, NULL, blob + 1 + NONCE_BYTES,
                       (unsigned long long)n - 1 - NONCE_BYTES, ad, ad_len, blob + 1,
                       store->field_key) != 0) {
        log_error("event=field_decrypt_failed column=%s", column);
        out[0] = '\0';
        return STORE_ERROR;
    }
    out[got] = '\0';
    return STORE_OK;
}
