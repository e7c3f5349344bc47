// form.js — labelled form fields and the display of a problem+json's field
// errors next to the fields they name.

import { h, toast } from "/static/dom.js";

// A label, the input, an error line tied to it (aria-describedby), a hint.
export function field(label, input, hint) {
  const id = `f-${input.name}`;
  input.id = id;
  const describedBy = [`${id}-error`, hint ? `${id}-hint` : null].filter(Boolean).join(" ");
  input.setAttribute("aria-describedby", describedBy);
  return h("div", { class: "field" }, h("label", { for: id }, label), input,
    h("p", { class: "error", id: `${id}-error`, "aria-live": "polite" }),
    hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null);
}

export function clearErrors(form) {
  for (const p of form.querySelectorAll(".error")) p.textContent = "";
  for (const i of form.querySelectorAll("[aria-invalid]")) i.removeAttribute("aria-invalid");
}

// Shows err.fields next to their inputs; anything not tied to a field goes
// to the form's summary line (or a toast). Returns nothing.
export function showErrors(form, err) {
  clearErrors(form);
  let placed = false;
  for (const [name, message] of Object.entries(err.fields || {})) {
    const p = form.querySelector(`#f-${CSS.escape(name)}-error`);
    if (!p) continue;
    p.textContent = `${name.replace(/_/g, " ")} ${message}`.replace(/^./, (c) => c.toUpperCase());
    form.querySelector(`#f-${CSS.escape(name)}`)?.setAttribute("aria-invalid", "true");
    placed = true;
  }
  const summary = form.querySelector(".form-error");
  if (summary) summary.textContent = err.message;
  else toast(err.message, "error");
  if (placed) form.querySelector("[aria-invalid]")?.focus();
}
