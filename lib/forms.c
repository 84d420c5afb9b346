/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * Data Forms (XEP-0004), written on the public stanza API only.
 */
#include <string.h>

#include "xmppc-private.h"
#include <xmppc/forms.h>

typedef struct form_option {
    char *label;
    char *value;
} form_option;

struct xmppc_form_field {
    char *var;
    xmppc_form_field_type type;
    char *label;
    char *desc;
    int required;
    char **values;
    size_t nvalues;
    form_option *options;
    size_t noptions;
};

typedef struct field_list {
    xmppc_form_field **v;
    size_t n;
} field_list;

struct xmppc_form {
    int refs;
    xmppc_form_type type;
    char *title;
    char **instructions;
    size_t ninstructions;
    field_list fields;
    field_list reported;
    field_list *items;
    size_t nitems;
};

static const char *const form_types[] = {"form", "submit", "cancel", "result"};
static const char *const field_types[] = {
    NULL,         "boolean",      "fixed",      "hidden",
    "jid-multi",  "jid-single",   "list-multi", "list-single",
    "text-multi", "text-private", "text-single"};
#define NFIELD_TYPES (sizeof field_types / sizeof field_types[0])

XMPPC_API const char *xmppc_form_type_name(xmppc_form_type type)
{
    if ((unsigned)type >= sizeof form_types / sizeof form_types[0])
        return NULL;
    return form_types[type];
}

XMPPC_API const char *xmppc_form_field_type_name(xmppc_form_field_type type)
{
    if ((unsigned)type >= NFIELD_TYPES)
        return NULL;
    return field_types[type];
}

XMPPC_API int xmppc_form_field_type_parse(const char *name)
{
    if (!name)
        return XMPPC_FIELD_UNSPECIFIED;
    for (size_t i = 1; i < NFIELD_TYPES; i++)
        if (strcmp(field_types[i], name) == 0)
            return (int)i;
    return xmppc__error(XMPPC_EINVAL, "form: unknown field type '%s'", name);
}

static int single_valued(xmppc_form_field_type t)
{
    return t == XMPPC_FIELD_BOOLEAN || t == XMPPC_FIELD_HIDDEN ||
           t == XMPPC_FIELD_JID_SINGLE || t == XMPPC_FIELD_LIST_SINGLE ||
           t == XMPPC_FIELD_TEXT_PRIVATE || t == XMPPC_FIELD_TEXT_SINGLE;
}

/* ---- string arrays ------------------------------------------------------ */

static int strv_push(char ***v, size_t *n, const char *s)
{
    char *copy = xmppc__strdup(s);
    if (!copy)
        return XMPPC_ENOMEM;
    char **nv = xmppc__reallocarray(*v, *n + 1, sizeof *nv);
    if (!nv) {
        xmppc_free(copy);
        return XMPPC_ENOMEM;
    }
    nv[(*n)++] = copy;
    *v = nv;
    return 0;
}

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        xmppc_free(v[i]);
    xmppc_free(v);
}

static int set_str(char **dst, const char *s)
{
    char *copy = NULL;
    if (s && !(copy = xmppc__strdup(s)))
        return XMPPC_ENOMEM;
    xmppc_free(*dst);
    *dst = copy;
    return 0;
}

/* ---- fields ------------------------------------------------------------- */

static void field_free(xmppc_form_field *f)
{
    if (!f)
        return;
    xmppc_free(f->var);
    xmppc_free(f->label);
    xmppc_free(f->desc);
    strv_free(f->values, f->nvalues);
    for (size_t i = 0; i < f->noptions; i++) {
        xmppc_free(f->options[i].label);
        xmppc_free(f->options[i].value);
    }
    xmppc_free(f->options);
    xmppc_free(f);
}

static void list_free(field_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        field_free(l->v[i]);
    xmppc_free(l->v);
    l->v = NULL;
    l->n = 0;
}

static xmppc_form_field *list_find(const field_list *l, const char *var)
{
    for (size_t i = 0; var && i < l->n; i++)
        if (l->v[i]->var && strcmp(l->v[i]->var, var) == 0)
            return l->v[i];
    return NULL;
}

/* Appends a new field to @p l after validating it; returns its index. */
static int list_add(field_list *l, const char *var, xmppc_form_field_type type,
                    const char *label)
{
    if ((unsigned)type >= NFIELD_TYPES)
        return xmppc__error(XMPPC_EINVAL, "form: unknown field type %d",
                            (int)type);
    if (!var && type != XMPPC_FIELD_FIXED)
        return xmppc__error(XMPPC_EINVAL, "form: a %s field needs a var",
                            type ? field_types[type] : "untyped");
    if (var && list_find(l, var))
        return xmppc__error(XMPPC_EINVAL, "form: duplicate field var '%s'",
                            var);
    xmppc_form_field *f = xmppc__calloc(1, sizeof *f);
    if (!f)
        return XMPPC_ENOMEM;
    f->type = type;
    xmppc_form_field **nv = NULL;
    if ((var && !(f->var = xmppc__strdup(var))) ||
        (label && !(f->label = xmppc__strdup(label))) ||
        !(nv = xmppc__reallocarray(l->v, l->n + 1, sizeof *nv))) {
        field_free(f);
        return XMPPC_ENOMEM;
    }
    nv[l->n] = f;
    l->v = nv;
    return (int)l->n++;
}

/* ---- forms -------------------------------------------------------------- */

XMPPC_API int xmppc_form_new(xmppc_form **out, xmppc_form_type type)
{
    if (!out)
        return xmppc__error(XMPPC_EINVAL, "form_new: NULL argument");
    *out = NULL;
    if ((unsigned)type > XMPPC_FORM_RESULT)
        return xmppc__error(XMPPC_EINVAL, "form_new: unknown form type %d",
                            (int)type);
    xmppc_form *f = xmppc__calloc(1, sizeof *f);
    if (!f)
        return XMPPC_ENOMEM;
    f->refs = 1;
    f->type = type;
    *out = f;
    return 0;
}

XMPPC_API xmppc_form *xmppc_form_ref(xmppc_form *form)
{
    if (form)
        form->refs++;
    return form;
}

XMPPC_API xmppc_form *xmppc_form_unref(xmppc_form *form)
{
    if (!form || --form->refs > 0)
        return NULL;
    xmppc_free(form->title);
    strv_free(form->instructions, form->ninstructions);
    list_free(&form->fields);
    list_free(&form->reported);
    for (size_t i = 0; i < form->nitems; i++)
        list_free(&form->items[i]);
    xmppc_free(form->items);
    xmppc_free(form);
    return NULL;
}

XMPPC_API xmppc_form_type xmppc_form_get_type(const xmppc_form *form)
{
    return form ? form->type : XMPPC_FORM_FORM;
}

XMPPC_API const char *xmppc_form_get_title(const xmppc_form *form)
{
    return form ? form->title : NULL;
}

XMPPC_API int xmppc_form_set_title(xmppc_form *form, const char *title)
{
    if (!form)
        return xmppc__error(XMPPC_EINVAL, "form_set_title: NULL form");
    return set_str(&form->title, title);
}

XMPPC_API size_t xmppc_form_instructions_count(const xmppc_form *form)
{
    return form ? form->ninstructions : 0;
}

XMPPC_API const char *xmppc_form_instructions_at(const xmppc_form *form,
                                                 size_t index)
{
    return form && index < form->ninstructions ? form->instructions[index]
                                               : NULL;
}

XMPPC_API int xmppc_form_add_instructions(xmppc_form *form, const char *text)
{
    if (!form || !text)
        return xmppc__error(XMPPC_EINVAL,
                            "form_add_instructions: NULL argument");
    return strv_push(&form->instructions, &form->ninstructions, text);
}

XMPPC_API const char *xmppc_form_get_form_type(const xmppc_form *form)
{
    xmppc_form_field *f = form ? list_find(&form->fields, "FORM_TYPE") : NULL;
    return f && f->nvalues > 0 ? f->values[0] : NULL;
}

XMPPC_API int xmppc_form_set_form_type(xmppc_form *form, const char *ns)
{
    if (!form || !ns)
        return xmppc__error(XMPPC_EINVAL, "form_set_form_type: NULL argument");
    xmppc_form_field *f = list_find(&form->fields, "FORM_TYPE");
    if (f)
        return xmppc_form_field_set_value(f, ns);
    int idx = list_add(&form->fields, "FORM_TYPE", XMPPC_FIELD_HIDDEN, NULL);
    if (idx < 0)
        return idx;
    f = form->fields.v[idx];
    int rc = xmppc_form_field_add_value(f, ns);
    if (rc < 0) {
        field_free(f);
        form->fields.n--;
        return rc;
    }
    /* FORM_TYPE goes first (XEP-0068 §3). */
    memmove(form->fields.v + 1, form->fields.v,
            (size_t)idx * sizeof form->fields.v[0]);
    form->fields.v[0] = f;
    return 0;
}

XMPPC_API size_t xmppc_form_field_count(const xmppc_form *form)
{
    return form ? form->fields.n : 0;
}

XMPPC_API xmppc_form_field *xmppc_form_field_at(const xmppc_form *form,
                                                size_t index)
{
    return form && index < form->fields.n ? form->fields.v[index] : NULL;
}

XMPPC_API xmppc_form_field *xmppc_form_get_field(const xmppc_form *form,
                                                 const char *var)
{
    return form ? list_find(&form->fields, var) : NULL;
}

XMPPC_API int xmppc_form_add_field(xmppc_form *form, const char *var,
                                   xmppc_form_field_type type,
                                   const char *label)
{
    if (!form)
        return xmppc__error(XMPPC_EINVAL, "form_add_field: NULL form");
    return list_add(&form->fields, var, type, label);
}

XMPPC_API int xmppc_form_remove_field(xmppc_form *form, size_t index)
{
    if (!form || index >= form->fields.n)
        return xmppc__error(XMPPC_EINVAL, "form_remove_field: no field %zu",
                            index);
    field_free(form->fields.v[index]);
    memmove(form->fields.v + index, form->fields.v + index + 1,
            (form->fields.n - index - 1) * sizeof form->fields.v[0]);
    form->fields.n--;
    return 0;
}

XMPPC_API size_t xmppc_form_reported_count(const xmppc_form *form)
{
    return form ? form->reported.n : 0;
}

XMPPC_API xmppc_form_field *xmppc_form_reported_at(const xmppc_form *form,
                                                   size_t index)
{
    return form && index < form->reported.n ? form->reported.v[index] : NULL;
}

XMPPC_API int xmppc_form_add_reported(xmppc_form *form, const char *var,
                                      xmppc_form_field_type type,
                                      const char *label)
{
    if (!form)
        return xmppc__error(XMPPC_EINVAL, "form_add_reported: NULL form");
    return list_add(&form->reported, var, type, label);
}

XMPPC_API size_t xmppc_form_item_count(const xmppc_form *form)
{
    return form ? form->nitems : 0;
}

XMPPC_API int xmppc_form_add_item(xmppc_form *form)
{
    if (!form)
        return xmppc__error(XMPPC_EINVAL, "form_add_item: NULL form");
    field_list *nv =
        xmppc__reallocarray(form->items, form->nitems + 1, sizeof *nv);
    if (!nv)
        return XMPPC_ENOMEM;
    nv[form->nitems] = (field_list){NULL, 0};
    form->items = nv;
    return (int)form->nitems++;
}

XMPPC_API size_t xmppc_form_item_field_count(const xmppc_form *form,
                                             size_t item)
{
    return form && item < form->nitems ? form->items[item].n : 0;
}

XMPPC_API xmppc_form_field *xmppc_form_item_field_at(const xmppc_form *form,
                                                     size_t item, size_t index)
{
    if (!form || item >= form->nitems || index >= form->items[item].n)
        return NULL;
    return form->items[item].v[index];
}

XMPPC_API int xmppc_form_item_add_field(xmppc_form *form, size_t item,
                                        const char *var,
                                        xmppc_form_field_type type)
{
    if (!form || item >= form->nitems)
        return xmppc__error(XMPPC_EINVAL, "form_item_add_field: no item %zu",
                            item);
    return list_add(&form->items[item], var, type, NULL);
}

/* ---- field accessors ---------------------------------------------------- */

XMPPC_API const char *xmppc_form_field_get_var(const xmppc_form_field *field)
{
    return field ? field->var : NULL;
}

XMPPC_API xmppc_form_field_type
xmppc_form_field_get_type(const xmppc_form_field *field)
{
    return field ? field->type : XMPPC_FIELD_UNSPECIFIED;
}

XMPPC_API const char *xmppc_form_field_get_label(const xmppc_form_field *field)
{
    return field ? field->label : NULL;
}

XMPPC_API int xmppc_form_field_set_label(xmppc_form_field *field,
                                         const char *label)
{
    if (!field)
        return xmppc__error(XMPPC_EINVAL, "form_field_set_label: NULL field");
    return set_str(&field->label, label);
}

XMPPC_API const char *xmppc_form_field_get_desc(const xmppc_form_field *field)
{
    return field ? field->desc : NULL;
}

XMPPC_API int xmppc_form_field_set_desc(xmppc_form_field *field,
                                        const char *desc)
{
    if (!field)
        return xmppc__error(XMPPC_EINVAL, "form_field_set_desc: NULL field");
    return set_str(&field->desc, desc);
}

XMPPC_API int xmppc_form_field_is_required(const xmppc_form_field *field)
{
    return field ? field->required : 0;
}

XMPPC_API int xmppc_form_field_set_required(xmppc_form_field *field,
                                            int required)
{
    if (!field)
        return xmppc__error(XMPPC_EINVAL,
                            "form_field_set_required: NULL field");
    field->required = required != 0;
    return 0;
}

XMPPC_API size_t xmppc_form_field_value_count(const xmppc_form_field *field)
{
    return field ? field->nvalues : 0;
}

XMPPC_API const char *xmppc_form_field_value_at(const xmppc_form_field *field,
                                                size_t index)
{
    return field && index < field->nvalues ? field->values[index] : NULL;
}

XMPPC_API const char *xmppc_form_field_get_value(const xmppc_form_field *field)
{
    return xmppc_form_field_value_at(field, 0);
}

XMPPC_API int xmppc_form_field_add_value(xmppc_form_field *field,
                                         const char *value)
{
    if (!field || !value)
        return xmppc__error(XMPPC_EINVAL,
                            "form_field_add_value: NULL argument");
    if (single_valued(field->type) && field->nvalues > 0)
        return xmppc__error(
            XMPPC_EINVAL, "form: field '%s' (%s) takes a single value",
            field->var ? field->var : "",
            field->type ? field_types[field->type] : "text-single");
    if (field->type == XMPPC_FIELD_BOOLEAN && strcmp(value, "0") != 0 &&
        strcmp(value, "1") != 0 && strcmp(value, "false") != 0 &&
        strcmp(value, "true") != 0)
        return xmppc__error(XMPPC_EINVAL,
                            "form: field '%s': '%s' is not a boolean",
                            field->var ? field->var : "", value);
    return strv_push(&field->values, &field->nvalues, value);
}

XMPPC_API void xmppc_form_field_clear_values(xmppc_form_field *field)
{
    if (!field)
        return;
    strv_free(field->values, field->nvalues);
    field->values = NULL;
    field->nvalues = 0;
}

XMPPC_API int xmppc_form_field_set_value(xmppc_form_field *field,
                                         const char *value)
{
    if (!field)
        return xmppc__error(XMPPC_EINVAL, "form_field_set_value: NULL field");
    char **old = field->values;
    size_t nold = field->nvalues;
    field->values = NULL;
    field->nvalues = 0;
    int rc = value ? xmppc_form_field_add_value(field, value) : 0;
    if (rc < 0) {
        field->values = old;
        field->nvalues = nold;
        return rc;
    }
    strv_free(old, nold);
    return 0;
}

XMPPC_API int xmppc_form_field_get_bool(const xmppc_form_field *field)
{
    const char *v = xmppc_form_field_get_value(field);
    return v && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0);
}

XMPPC_API size_t xmppc_form_field_option_count(const xmppc_form_field *field)
{
    return field ? field->noptions : 0;
}

XMPPC_API int xmppc_form_field_option_at(const xmppc_form_field *field,
                                         size_t index, const char **label_out,
                                         const char **value_out)
{
    if (!field || index >= field->noptions)
        return xmppc__error(XMPPC_EINVAL, "form_field_option_at: no option");
    if (label_out)
        *label_out = field->options[index].label;
    if (value_out)
        *value_out = field->options[index].value;
    return 0;
}

XMPPC_API int xmppc_form_field_add_option(xmppc_form_field *field,
                                          const char *label, const char *value)
{
    if (!field || !value)
        return xmppc__error(XMPPC_EINVAL,
                            "form_field_add_option: NULL argument");
    if (field->type != XMPPC_FIELD_LIST_SINGLE &&
        field->type != XMPPC_FIELD_LIST_MULTI)
        return xmppc__error(XMPPC_EINVAL,
                            "form: options only on list fields ('%s')",
                            field->var ? field->var : "");
    form_option o = {NULL, xmppc__strdup(value)};
    form_option *nv = NULL;
    if (!o.value || (label && !(o.label = xmppc__strdup(label))) ||
        !(nv = xmppc__reallocarray(field->options, field->noptions + 1,
                                   sizeof *nv))) {
        xmppc_free(o.label);
        xmppc_free(o.value);
        return XMPPC_ENOMEM;
    }
    nv[field->noptions++] = o;
    field->options = nv;
    return 0;
}

/* ---- parsing ------------------------------------------------------------ */

static const char *text_or_empty(const xmppc_stanza *s)
{
    const char *t = xmppc_stanza_get_text(s);
    return t ? t : "";
}

static int parse_fields(field_list *l, const xmppc_stanza *parent)
{
    for (xmppc_stanza *c =
             xmppc_stanza_get_child(parent, "field", XMPPC_NS_DATA_FORMS);
         c; c = xmppc_stanza_get_next_child(parent, c, "field",
                                            XMPPC_NS_DATA_FORMS)) {
        int type =
            xmppc_form_field_type_parse(xmppc_stanza_get_attr(c, "type"));
        if (type < 0)
            return type;
        int idx = list_add(l, xmppc_stanza_get_attr(c, "var"),
                           (xmppc_form_field_type)type,
                           xmppc_stanza_get_attr(c, "label"));
        if (idx < 0)
            return idx;
        xmppc_form_field *f = l->v[idx];
        int rc = 0;
        const char *desc =
            xmppc_stanza_get_child_text(c, "desc", XMPPC_NS_DATA_FORMS);
        if (desc)
            rc = set_str(&f->desc, desc);
        f->required =
            xmppc_stanza_get_child(c, "required", XMPPC_NS_DATA_FORMS) != NULL;
        for (xmppc_stanza *v =
                 xmppc_stanza_get_child(c, "value", XMPPC_NS_DATA_FORMS);
             v && rc == 0; v = xmppc_stanza_get_next_child(
                               c, v, "value", XMPPC_NS_DATA_FORMS)) {
            /* Booleans are checked leniently on input: only the count. */
            if (single_valued(f->type) && f->nvalues > 0)
                rc = xmppc__error(XMPPC_EINVAL,
                                  "form: field '%s' has several values",
                                  f->var ? f->var : "");
            else
                rc = strv_push(&f->values, &f->nvalues, text_or_empty(v));
        }
        for (xmppc_stanza *o =
                 xmppc_stanza_get_child(c, "option", XMPPC_NS_DATA_FORMS);
             o && rc == 0; o = xmppc_stanza_get_next_child(
                               c, o, "option", XMPPC_NS_DATA_FORMS)) {
            const char *val =
                xmppc_stanza_get_child_text(o, "value", XMPPC_NS_DATA_FORMS);
            rc = xmppc_form_field_add_option(
                f, xmppc_stanza_get_attr(o, "label"), val ? val : "");
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

XMPPC_API int xmppc_form_parse(xmppc_form **out, const xmppc_stanza *x)
{
    if (!out || !x)
        return xmppc__error(XMPPC_EINVAL, "form_parse: NULL argument");
    *out = NULL;
    const char *name = xmppc_stanza_get_name(x);
    const char *ns = xmppc_stanza_get_ns(x);
    if (!name || strcmp(name, "x") != 0 || !ns ||
        strcmp(ns, XMPPC_NS_DATA_FORMS) != 0)
        return xmppc__error(XMPPC_EINVAL,
                            "form_parse: not <x xmlns='jabber:x:data'/>");
    const char *tname = xmppc_stanza_get_attr(x, "type");
    int type = -1;
    for (int i = 0; tname && i < 4; i++)
        if (strcmp(tname, form_types[i]) == 0)
            type = i;
    if (type < 0)
        return xmppc__error(XMPPC_EINVAL, "form_parse: bad form type '%s'",
                            tname ? tname : "(none)");
    xmppc_form *f = NULL;
    int rc = xmppc_form_new(&f, (xmppc_form_type)type);
    if (rc < 0)
        return rc;
    const char *title =
        xmppc_stanza_get_child_text(x, "title", XMPPC_NS_DATA_FORMS);
    if (title)
        rc = set_str(&f->title, title);
    for (xmppc_stanza *c =
             xmppc_stanza_get_child(x, "instructions", XMPPC_NS_DATA_FORMS);
         c && rc == 0; c = xmppc_stanza_get_next_child(x, c, "instructions",
                                                       XMPPC_NS_DATA_FORMS))
        rc = strv_push(&f->instructions, &f->ninstructions, text_or_empty(c));
    if (rc == 0)
        rc = parse_fields(&f->fields, x);
    xmppc_stanza *rep =
        xmppc_stanza_get_child(x, "reported", XMPPC_NS_DATA_FORMS);
    if (rc == 0 && rep)
        rc = parse_fields(&f->reported, rep);
    for (xmppc_stanza *it =
             xmppc_stanza_get_child(x, "item", XMPPC_NS_DATA_FORMS);
         it && rc == 0;
         it = xmppc_stanza_get_next_child(x, it, "item", XMPPC_NS_DATA_FORMS)) {
        rc = xmppc_form_add_item(f);
        if (rc >= 0)
            rc = parse_fields(&f->items[rc], it);
    }
    if (rc < 0) {
        xmppc_form_unref(f);
        return rc;
    }
    *out = f;
    return 0;
}

/* ---- serializing -------------------------------------------------------- */

static int add_text_child(xmppc_stanza *parent, const char *name,
                          const char *text)
{
    return xmppc_stanza_add_text_child(parent, name, NULL, text);
}

static int field_to_stanza(xmppc_stanza *parent, const xmppc_form_field *f)
{
    xmppc_stanza *c = NULL;
    int rc = xmppc_stanza_new(&c, "field", NULL);
    if (rc == 0 && f->var)
        rc = xmppc_stanza_set_attr(c, "var", f->var);
    if (rc == 0 && f->type != XMPPC_FIELD_UNSPECIFIED)
        rc = xmppc_stanza_set_attr(c, "type", field_types[f->type]);
    if (rc == 0 && f->label)
        rc = xmppc_stanza_set_attr(c, "label", f->label);
    if (rc == 0 && f->desc)
        rc = add_text_child(c, "desc", f->desc);
    if (rc == 0 && f->required)
        rc = add_text_child(c, "required", NULL);
    for (size_t i = 0; rc == 0 && i < f->nvalues; i++)
        rc = add_text_child(c, "value", f->values[i]);
    for (size_t i = 0; rc == 0 && i < f->noptions; i++) {
        xmppc_stanza *o = NULL;
        rc = xmppc_stanza_new(&o, "option", NULL);
        if (rc == 0 && f->options[i].label)
            rc = xmppc_stanza_set_attr(o, "label", f->options[i].label);
        if (rc == 0)
            rc = add_text_child(o, "value", f->options[i].value);
        if (rc == 0)
            rc = xmppc_stanza_add_child(c, o);
        xmppc_stanza_unref(o);
    }
    if (rc == 0)
        rc = xmppc_stanza_add_child(parent, c);
    xmppc_stanza_unref(c);
    return rc;
}

static int list_to_stanza(xmppc_stanza *parent, const field_list *l)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < l->n; i++)
        rc = field_to_stanza(parent, l->v[i]);
    return rc;
}

static int wrapped_list(xmppc_stanza *x, const char *name, const field_list *l)
{
    xmppc_stanza *w = NULL;
    int rc = xmppc_stanza_new(&w, name, NULL);
    if (rc == 0)
        rc = list_to_stanza(w, l);
    if (rc == 0)
        rc = xmppc_stanza_add_child(x, w);
    xmppc_stanza_unref(w);
    return rc;
}

XMPPC_API int xmppc_form_to_stanza(xmppc_stanza **out, const xmppc_form *form)
{
    if (!out || !form)
        return xmppc__error(XMPPC_EINVAL, "form_to_stanza: NULL argument");
    *out = NULL;
    xmppc_stanza *x = NULL;
    int rc = xmppc_stanza_new(&x, "x", XMPPC_NS_DATA_FORMS);
    if (rc == 0)
        rc = xmppc_stanza_set_attr(x, "type", form_types[form->type]);
    if (rc == 0 && form->title)
        rc = add_text_child(x, "title", form->title);
    for (size_t i = 0; rc == 0 && i < form->ninstructions; i++)
        rc = add_text_child(x, "instructions", form->instructions[i]);
    if (rc == 0)
        rc = list_to_stanza(x, &form->fields);
    if (rc == 0 && form->reported.n > 0)
        rc = wrapped_list(x, "reported", &form->reported);
    for (size_t i = 0; rc == 0 && i < form->nitems; i++)
        rc = wrapped_list(x, "item", &form->items[i]);
    if (rc < 0) {
        xmppc_stanza_unref(x);
        return rc;
    }
    *out = x;
    return 0;
}
