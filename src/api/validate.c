/*
 * validate.c — input validation shared by every resource (see api.h).
 */
#include "api/api.h"

#include "core/id.h"
#include "core/parse.h"

#include <stdio.h>
#include <string.h>

static void record(struct validation *v, const char *field, const char *message)
{
    if (http_errors_add(&v->errors, field, message) < 0)
        v->shape_error = true; /* out of memory: still fail the request */
}

const char *api_field_string(json_t *obj, const char *name, bool required, struct validation *v)
{
    json_t *value = json_object_get(obj, name);
    if (!value || json_is_null(value)) {
        if (required) {
            record(v, name, "is required");
            v->shape_error = true;
        }
        return NULL;
    }
    if (!json_is_string(value)) {
        record(v, name, "must be a string");
        v->shape_error = true;
        return NULL;
    }
    return json_string_value(value);
}

void api_invalid(struct validation *v, const char *field, const char *message)
{
    record(v, field, message);
}

void api_reject_unknown_fields(json_t *obj, const char *const *allowed, struct validation *v)
{
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value) {
        bool known = false;
        for (const char *const *a = allowed; *a && !known; a++)
            known = strcmp(*a, key) == 0;
        if (!known) {
            char field[64];
            snprintf(field, sizeof field, "%.60s", key);
            record(v, field, "is not a known field");
            v->shape_error = true;
        }
    }
}

bool api_check_text(struct validation *v, const char *field, const char *text, size_t min,
                    size_t max, bool multiline)
{
    size_t bytes = strlen(text);
    size_t chars = utf8_length(text, bytes);
    char msg[96];
    if (chars < min || chars > max) {
        snprintf(msg, sizeof msg, "must be %zu to %zu characters long", min, max);
        record(v, field, msg);
        return false;
    }
    if (!utf8_valid(text, bytes)) {
        record(v, field, "must be valid UTF-8");
        return false;
    }
    if (utf8_has_controls(text, bytes, multiline)) {
        record(v, field, "must not contain control characters");
        return false;
    }
    return true;
}

bool api_validation_failed(struct http_request *req, struct validation *v)
{
    if (!v->errors && !v->shape_error)
        return false;
    int status = v->shape_error ? 400 : 422;
    http_problem(req, status, "validation-error",
                 status == 400 ? "Invalid request" : "Invalid field value",
                 "one or more fields are missing or invalid; see errors", v->errors);
    v->errors = NULL;
    return true;
}

bool api_param_id(struct http_request *req, const char *name, uint64_t *id)
{
    const char *s = http_request_param(req, name);
    if (s && id_parse(s, id))
        return true;
    json_t *errors = NULL;
    http_errors_add(&errors, name, "must be a Reel id (a decimal string)");
    http_problem(req, 400, "validation-error", "Invalid request", "malformed id", errors);
    return false;
}

const char *api_username_problem(const char *u)
{
    size_t n = strlen(u);
    if (n < 3 || n > 30)
        return "must be 3 to 30 characters long";
    for (size_t i = 0; i < n; i++) {
        char c = u[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.';
        if (!ok)
            return "may contain only letters A-Z, digits, '_' and '.'";
    }
    if (u[0] == '.' || u[n - 1] == '.' || strstr(u, ".."))
        return "must not start or end with '.' or contain '..'";
    return NULL;
}

static bool domain_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

const char *api_email_problem(const char *email)
{
    size_t n = strlen(email);
    if (n < 3 || n > 254)
        return "must be an e-mail address of at most 254 characters";
    const char *at = strchr(email, '@');
    if (!at || strchr(at + 1, '@'))
        return "must be an e-mail address (one '@')";
    size_t local = (size_t)(at - email);
    if (local < 1 || local > 64)
        return "the part before '@' must be 1 to 64 characters";
    for (size_t i = 0; i < local; i++) {
        unsigned char c = (unsigned char)email[i];
        if (c <= ' ' || c >= 0x7f || c == '"' || c == '(' || c == ')' || c == ',' || c == ':' ||
            c == ';' || c == '<' || c == '>' || c == '[' || c == ']' || c == '\\')
            return "the part before '@' has a character not allowed in an address";
    }
    const char *d = at + 1;
    if (!strchr(d, '.'))
        return "the domain must contain a '.'";
    size_t label = 0;
    for (const char *p = d;; p++) {
        if (*p == '.' || *p == '\0') {
            if (label == 0 || label > 63 || p[-1] == '-')
                return "the domain is not a valid host name";
            if (*p == '\0')
                break;
            label = 0;
            continue;
        }
        if (!domain_char(*p) || (label == 0 && *p == '-'))
            return "the domain is not a valid host name";
        label++;
    }
    return NULL;
}
