/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 */

/**
 * @file xmppc/forms.h
 * @brief Data Forms (XEP-0004): parse, build and serialize
 *        `<x xmlns='jabber:x:data'/>`.
 *
 * A form is an opaque, reference-counted object with a type (form,
 * submit, cancel, result), an optional title, instructions and fields.
 * A field has a var (its name; required except for "fixed" fields), a
 * type, a label, a description, a required flag, values and, for list
 * fields, options. Result forms may also carry reported fields (the
 * column headers) and items (rows of fields).
 *
 * Building validates as it goes: an unknown field type, a missing var on
 * a non-fixed field, a duplicate var, or a second value on a
 * single-value field (boolean, fixed is the exception: it may have
 * several lines, hidden, jid-single, list-single, text-private,
 * text-single) is refused with XMPPC_EINVAL.
 *
 * Ownership: fields returned by accessors are borrowed from their form
 * and live as long as it (and until it is changed). Strings are
 * borrowed likewise. Thread-safety: a form may be used by one thread at
 * a time.
 * @since 0.1
 */
#ifndef XMPPC_FORMS_H
#define XMPPC_FORMS_H

#include <stddef.h>

#include <xmppc/common.h>
#include <xmppc/stanza.h>

XMPPC_BEGIN_DECLS

/** The Data Forms namespace. */
#define XMPPC_NS_DATA_FORMS "jabber:x:data"

/** A data form. */
typedef struct xmppc_form xmppc_form;
/** A field of a form (borrowed from its form). */
typedef struct xmppc_form_field xmppc_form_field;

/** The form types of XEP-0004 §3.1. */
typedef enum xmppc_form_type {
    XMPPC_FORM_FORM = 0,   /**< "form": the entity asks for data */
    XMPPC_FORM_SUBMIT = 1, /**< "submit": the answer */
    XMPPC_FORM_CANCEL = 2, /**< "cancel": the answer is "no" */
    XMPPC_FORM_RESULT = 3  /**< "result": data returned */
} xmppc_form_type;

/** The field types of XEP-0004 §3.3, plus "no type given". */
typedef enum xmppc_form_field_type {
    /** No `type` attribute (typical in submit and result forms, where the
     * form's definition gives the type); any number of values. */
    XMPPC_FIELD_UNSPECIFIED = 0,
    XMPPC_FIELD_BOOLEAN = 1,      /**< "boolean" */
    XMPPC_FIELD_FIXED = 2,        /**< "fixed" (var optional) */
    XMPPC_FIELD_HIDDEN = 3,       /**< "hidden" */
    XMPPC_FIELD_JID_MULTI = 4,    /**< "jid-multi" */
    XMPPC_FIELD_JID_SINGLE = 5,   /**< "jid-single" */
    XMPPC_FIELD_LIST_MULTI = 6,   /**< "list-multi" */
    XMPPC_FIELD_LIST_SINGLE = 7,  /**< "list-single" */
    XMPPC_FIELD_TEXT_MULTI = 8,   /**< "text-multi" */
    XMPPC_FIELD_TEXT_PRIVATE = 9, /**< "text-private" */
    XMPPC_FIELD_TEXT_SINGLE = 10  /**< "text-single" */
} xmppc_form_field_type;

/* ---- form type and field type names --------------------------------- */

/** The wire name of a form type ("form", "submit"...), or NULL when out
 * of range. @since 0.1 */
XMPPC_API const char *xmppc_form_type_name(xmppc_form_type type);

/** The wire name of a field type ("text-single"...); NULL for
 * XMPPC_FIELD_UNSPECIFIED or out of range. @since 0.1 */
XMPPC_API const char *xmppc_form_field_type_name(xmppc_form_field_type type);

/**
 * Parses a field type name.
 * @param name the wire name, or NULL for XMPPC_FIELD_UNSPECIFIED.
 * @return the type (≥ 0); XMPPC_EINVAL for an unknown name.
 * @since 0.1
 */
XMPPC_API int xmppc_form_field_type_parse(const char *name);

/* ---- lifecycle -------------------------------------------------------- */

/**
 * Creates an empty form.
 * @param[out] out the form (caller owns one reference; release it with
 *             xmppc_form_unref()).
 * @return 0; XMPPC_EINVAL (NULL @p out or unknown type); XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_form_new(xmppc_form **out, xmppc_form_type type);

/**
 * Parses `<x xmlns='jabber:x:data'/>`.
 * @param[out] out the form (caller owns one reference).
 * @param x the element (borrowed; not kept).
 * @return 0; XMPPC_EINVAL (not a data form, unknown form or field type,
 *         a non-fixed field without var, several values in a single-value
 *         field; the message says which); XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_form_parse(xmppc_form **out, const xmppc_stanza *x);

/**
 * Serializes a form as a new `<x xmlns='jabber:x:data'/>` element.
 * @param[out] out the element (caller owns one reference).
 * @return 0; XMPPC_EINVAL; XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_form_to_stanza(xmppc_stanza **out, const xmppc_form *form);

/** Takes a reference. @return @p form (NULL-safe). @since 0.1 */
XMPPC_API xmppc_form *xmppc_form_ref(xmppc_form *form);

/** Drops a reference; the last one frees the form and its fields.
 * @return NULL (NULL-safe). @since 0.1 */
XMPPC_API xmppc_form *xmppc_form_unref(xmppc_form *form);

/* ---- form properties -------------------------------------------------- */

/** The form's type (XMPPC_FORM_FORM for NULL). @since 0.1 */
XMPPC_API xmppc_form_type xmppc_form_get_type(const xmppc_form *form);

/** The title (borrowed), or NULL. @since 0.1 */
XMPPC_API const char *xmppc_form_get_title(const xmppc_form *form);

/** Sets the title (copied); NULL removes it. @return 0; XMPPC_EINVAL;
 * XMPPC_ENOMEM. @since 0.1 */
XMPPC_API int xmppc_form_set_title(xmppc_form *form, const char *title);

/** The number of `<instructions/>` lines. @since 0.1 */
XMPPC_API size_t xmppc_form_instructions_count(const xmppc_form *form);

/** The instructions line at @p index (borrowed), or NULL when out of
 * range. @since 0.1 */
XMPPC_API const char *xmppc_form_instructions_at(const xmppc_form *form,
                                                 size_t index);

/** Appends an instructions line (copied). @return 0; XMPPC_EINVAL;
 * XMPPC_ENOMEM. @since 0.1 */
XMPPC_API int xmppc_form_add_instructions(xmppc_form *form, const char *text);

/**
 * The value of the hidden FORM_TYPE field (XEP-0068), or NULL (borrowed).
 * @since 0.1
 */
XMPPC_API const char *xmppc_form_get_form_type(const xmppc_form *form);

/**
 * Sets FORM_TYPE: adds a hidden field "FORM_TYPE" with @p ns as its value
 * (first in the form), or replaces the value of the existing one.
 * @return 0; XMPPC_EINVAL; XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_form_set_form_type(xmppc_form *form, const char *ns);

/* ---- fields ----------------------------------------------------------- */

/** The number of fields (outside reported/items). @since 0.1 */
XMPPC_API size_t xmppc_form_field_count(const xmppc_form *form);

/** The field at @p index (borrowed), or NULL when out of range.
 * @since 0.1 */
XMPPC_API xmppc_form_field *xmppc_form_field_at(const xmppc_form *form,
                                                size_t index);

/** The first field whose var is @p var (borrowed), or NULL. @since 0.1 */
XMPPC_API xmppc_form_field *xmppc_form_get_field(const xmppc_form *form,
                                                 const char *var);

/**
 * Appends a field.
 * @param var the field name (copied); required unless @p type is
 *        XMPPC_FIELD_FIXED; must be unique in the form.
 * @param label a label (copied), or NULL.
 * @return the new field's index (≥ 0; get it with xmppc_form_field_at());
 *         XMPPC_EINVAL (unknown type, missing or duplicate var);
 *         XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_form_add_field(xmppc_form *form, const char *var,
                                   xmppc_form_field_type type,
                                   const char *label);

/**
 * Removes the field at @p index (borrowed pointers to it become invalid).
 * @return 0; XMPPC_EINVAL when out of range.
 * @since 0.1
 */
XMPPC_API int xmppc_form_remove_field(xmppc_form *form, size_t index);

/* ---- result forms: reported fields and items --------------------------- */

/** The number of `<reported/>` fields. @since 0.1 */
XMPPC_API size_t xmppc_form_reported_count(const xmppc_form *form);

/** The reported field at @p index (borrowed), or NULL. @since 0.1 */
XMPPC_API xmppc_form_field *xmppc_form_reported_at(const xmppc_form *form,
                                                   size_t index);

/** Appends a reported field (a column), as xmppc_form_add_field().
 * @return its index; XMPPC_EINVAL; XMPPC_ENOMEM. @since 0.1 */
XMPPC_API int xmppc_form_add_reported(xmppc_form *form, const char *var,
                                      xmppc_form_field_type type,
                                      const char *label);

/** The number of `<item/>` rows. @since 0.1 */
XMPPC_API size_t xmppc_form_item_count(const xmppc_form *form);

/** Appends an empty item. @return its index; XMPPC_EINVAL; XMPPC_ENOMEM.
 * @since 0.1 */
XMPPC_API int xmppc_form_add_item(xmppc_form *form);

/** The number of fields of item @p item (0 when out of range).
 * @since 0.1 */
XMPPC_API size_t xmppc_form_item_field_count(const xmppc_form *form,
                                             size_t item);

/** Field @p index of item @p item (borrowed), or NULL. @since 0.1 */
XMPPC_API xmppc_form_field *xmppc_form_item_field_at(const xmppc_form *form,
                                                     size_t item, size_t index);

/** Appends a field to item @p item, as xmppc_form_add_field().
 * @return the field's index in the item; XMPPC_EINVAL; XMPPC_ENOMEM.
 * @since 0.1 */
XMPPC_API int xmppc_form_item_add_field(xmppc_form *form, size_t item,
                                        const char *var,
                                        xmppc_form_field_type type);

/* ---- a field ---------------------------------------------------------- */

/** The var (borrowed), or NULL (fixed fields). @since 0.1 */
XMPPC_API const char *xmppc_form_field_get_var(const xmppc_form_field *field);

/** The type. @since 0.1 */
XMPPC_API xmppc_form_field_type
xmppc_form_field_get_type(const xmppc_form_field *field);

/** The label (borrowed), or NULL. @since 0.1 */
XMPPC_API const char *xmppc_form_field_get_label(const xmppc_form_field *field);

/** Sets the label (copied; NULL removes). @return 0; XMPPC_EINVAL;
 * XMPPC_ENOMEM. @since 0.1 */
XMPPC_API int xmppc_form_field_set_label(xmppc_form_field *field,
                                         const char *label);

/** The `<desc/>` (borrowed), or NULL. @since 0.1 */
XMPPC_API const char *xmppc_form_field_get_desc(const xmppc_form_field *field);

/** Sets the `<desc/>` (copied; NULL removes). @return 0; XMPPC_EINVAL;
 * XMPPC_ENOMEM. @since 0.1 */
XMPPC_API int xmppc_form_field_set_desc(xmppc_form_field *field,
                                        const char *desc);

/** 1 if the field is `<required/>`, else 0. @since 0.1 */
XMPPC_API int xmppc_form_field_is_required(const xmppc_form_field *field);

/** Sets or clears `<required/>`. @return 0; XMPPC_EINVAL. @since 0.1 */
XMPPC_API int xmppc_form_field_set_required(xmppc_form_field *field,
                                            int required);

/** The number of values. @since 0.1 */
XMPPC_API size_t xmppc_form_field_value_count(const xmppc_form_field *field);

/** The value at @p index (borrowed), or NULL. @since 0.1 */
XMPPC_API const char *xmppc_form_field_value_at(const xmppc_form_field *field,
                                                size_t index);

/** The first value (borrowed), or NULL. @since 0.1 */
XMPPC_API const char *xmppc_form_field_get_value(const xmppc_form_field *field);

/**
 * Appends a value (copied; "" allowed).
 * @return 0; XMPPC_EINVAL (NULL, or a second value for a single-value
 *         type; for boolean also a value other than 0, 1, false, true);
 *         XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_form_field_add_value(xmppc_form_field *field,
                                         const char *value);

/** Replaces all values with @p value (NULL: no value).
 * @return as xmppc_form_field_add_value(). @since 0.1 */
XMPPC_API int xmppc_form_field_set_value(xmppc_form_field *field,
                                         const char *value);

/** Removes every value. @since 0.1 */
XMPPC_API void xmppc_form_field_clear_values(xmppc_form_field *field);

/**
 * The boolean value: 1 for "1"/"true", 0 for "0"/"false" or no value.
 * @since 0.1
 */
XMPPC_API int xmppc_form_field_get_bool(const xmppc_form_field *field);

/** The number of `<option/>`s. @since 0.1 */
XMPPC_API size_t xmppc_form_field_option_count(const xmppc_form_field *field);

/**
 * The option at @p index. Out parameters may be NULL; strings are
 * borrowed; the label is NULL when the option has none.
 * @return 0; XMPPC_EINVAL when out of range.
 * @since 0.1
 */
XMPPC_API int xmppc_form_field_option_at(const xmppc_form_field *field,
                                         size_t index, const char **label_out,
                                         const char **value_out);

/**
 * Appends an option (list-single and list-multi fields only).
 * @param label the label (copied), or NULL.
 * @param value the value (copied).
 * @return 0; XMPPC_EINVAL; XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_form_field_add_option(xmppc_form_field *field,
                                          const char *label, const char *value);

XMPPC_END_DECLS

#endif /* XMPPC_FORMS_H */
