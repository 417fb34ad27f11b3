"""Structural OpenAPI v3 schemas of CRDs: pruning (unknown fields), defaulting and
validation, with the apiserver's error wording."""
import copy
import json
import re

MAX_DEPTH = 64
_ROOT_KEEP = ("apiVersion", "kind", "metadata")

_GO_TYPES = {"object": "object", "array": "array", "string": "string",
             "integer": "integer", "number": "number", "boolean": "boolean"}


def _type_ok(t, v):
    if t == "object":
        return isinstance(v, dict)
    if t == "array":
        return isinstance(v, list)
    if t == "string":
        return isinstance(v, str)
    if t == "boolean":
        return isinstance(v, bool)
    if t == "integer":
        return isinstance(v, int) and not isinstance(v, bool) or \
            (isinstance(v, float) and v.is_integer())
    if t == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    return True


def _json_type(v):
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, dict):
        return "object"
    if isinstance(v, list):
        return "array"
    if isinstance(v, str):
        return "string"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    return "null"


def _fmt(v):
    return json.dumps(v) if isinstance(v, str) else (
        "object" if isinstance(v, dict) else "array" if isinstance(v, list) else json.dumps(v))


def prune(schema, value, path="", unknown=None, root=True, depth=0):
    """Removes fields the schema does not declare (and nulls that are not nullable).
    Returns the pruned value; unknown collects dotted paths of the dropped fields."""
    if depth > MAX_DEPTH or not isinstance(schema, dict):
        return value
    if isinstance(value, dict):
        props = schema.get("properties")
        addl = schema.get("additionalProperties")
        keep = schema.get("x-kubernetes-preserve-unknown-fields") or \
            schema.get("x-kubernetes-embedded-resource")
        out = {}
        for k, v in value.items():
            p = "%s.%s" % (path, k) if path else k
            if root and k in _ROOT_KEEP:
                out[k] = v
                continue
            if props is not None and k in props:
                sub = props[k]
            elif isinstance(addl, dict):
                sub = addl
            elif addl is True or keep:
                out[k] = v
                continue
            else:
                if unknown is not None:
                    unknown.append(p)
                continue
            if v is None and not sub.get("nullable"):
                continue
            out[k] = prune(sub, v, p, unknown, False, depth + 1)
        return out
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [prune(schema["items"], v, "%s[%d]" % (path, i), unknown, False, depth + 1)
                for i, v in enumerate(value)]
    return value


def apply_defaults(schema, value, depth=0):
    """Fills defaults of declared properties, recursively, in place; returns value."""
    if depth > MAX_DEPTH or not isinstance(schema, dict):
        return value
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        for k, sub in props.items():
            if k not in value and isinstance(sub, dict) and "default" in sub:
                value[k] = copy.deepcopy(sub["default"])
            if k in value:
                value[k] = apply_defaults(sub, value[k], depth + 1)
        addl = schema.get("additionalProperties")
        if isinstance(addl, dict):
            for k in list(value):
                if k not in props:
                    value[k] = apply_defaults(addl, value[k], depth + 1)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, v in enumerate(value):
            value[i] = apply_defaults(schema["items"], v, depth + 1)
    return value


def validate(schema, value, path="", root=True, depth=0):
    """Returns a list of causes (field, reason, message)."""
    errs = []
    if depth > MAX_DEPTH or not isinstance(schema, dict):
        return errs
    fld = path or "<root>"
    if value is None:
        if not schema.get("nullable") and not root:
            errs.append((fld, "FieldValueInvalid",
                         'Invalid value: "null": %s in body must be of type %s: "null"'
                         % (fld, schema.get("type", "object"))))
        return errs
    t = schema.get("type")
    if schema.get("x-kubernetes-int-or-string"):
        if not (isinstance(value, str) or _type_ok("integer", value)):
            errs.append((fld, "FieldValueInvalid", 'Invalid value: "%s": %s in body must be '
                         'of type int-or-string: "%s"' % (_json_type(value), fld,
                                                          _json_type(value))))
            return errs
    elif t and not _type_ok(t, value):
        errs.append((fld, "FieldValueTypeInvalid" if False else "FieldValueInvalid",
                     'Invalid value: "%s": %s in body must be of type %s: "%s"'
                     % (_json_type(value), fld, _GO_TYPES.get(t, t), _json_type(value))))
        return errs
    if "enum" in schema and value not in schema["enum"]:
        errs.append((fld, "FieldValueNotSupported", "Unsupported value: %s: supported values: %s"
                     % (json.dumps(value), ", ".join(json.dumps(e) for e in schema["enum"]))))
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errs.append((fld, "FieldValueInvalid", "Invalid value: %s: %s in body should match "
                         "'%s'" % (json.dumps(value), fld, schema["pattern"])))
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errs.append((fld, "FieldValueTooLong", "Too long: may not be longer than %d"
                         % schema["maxLength"]))
        if "minLength" in schema and len(value) < schema["minLength"]:
            errs.append((fld, "FieldValueInvalid", "Invalid value: %s: %s in body should be at "
                         "least %d chars long" % (json.dumps(value), fld, schema["minLength"])))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errs.append((fld, "FieldValueInvalid", "Invalid value: %s: %s in body should be "
                         "greater than or equal to %s" % (value, fld, schema["minimum"])))
        if "maximum" in schema and value > schema["maximum"]:
            errs.append((fld, "FieldValueInvalid", "Invalid value: %s: %s in body should be "
                         "less than or equal to %s" % (value, fld, schema["maximum"])))
    if isinstance(value, list):
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            errs.append((fld, "FieldValueTooMany", "Too many: %d: must have at most %d items"
                         % (len(value), schema["maxItems"])))
        if "minItems" in schema and len(value) < schema["minItems"]:
            errs.append((fld, "FieldValueInvalid", "Invalid value: %d: %s in body should have "
                         "at least %d items" % (len(value), fld, schema["minItems"])))
        if isinstance(schema.get("items"), dict):
            for i, v in enumerate(value):
                errs += validate(schema["items"], v, "%s[%d]" % (path, i), False, depth + 1)
    if isinstance(value, dict):
        for r in schema.get("required") or []:
            if r not in value:
                errs.append(("%s.%s" % (path, r) if path else r, "FieldValueRequired",
                             "Required value"))
        props = schema.get("properties") or {}
        addl = schema.get("additionalProperties")
        for k, v in value.items():
            if root and k in _ROOT_KEEP:
                continue
            p = "%s.%s" % (path, k) if path else k
            if k in props:
                errs += validate(props[k], v, p, False, depth + 1)
            elif isinstance(addl, dict):
                errs += validate(addl, v, p, False, depth + 1)
        if "maxProperties" in schema and len(value) > schema["maxProperties"]:
            errs.append((fld, "FieldValueTooMany", "Too many: %d: must have at most %d items"
                         % (len(value), schema["maxProperties"])))
    if "oneOf" in schema:
        n = sum(1 for s in schema["oneOf"] if not validate(s, value, path, root, depth + 1))
        if n != 1:
            errs.append((fld, "FieldValueInvalid", 'Invalid value: "%s": %s in body must match '
                         "exactly one schema in oneOf (%s)" % (
                             _json_type(value), fld, "none matched" if n == 0 else
                             "%d matched" % n)))
    if "anyOf" in schema:
        if not any(not validate(s, value, path, root, depth + 1) for s in schema["anyOf"]):
            errs.append((fld, "FieldValueInvalid", 'Invalid value: "%s": %s in body must match '
                         "at least one schema in anyOf" % (_json_type(value), fld)))
    for s in schema.get("allOf") or []:
        errs += validate(s, value, path, root, depth + 1)
    if isinstance(schema.get("not"), dict) and not validate(schema["not"], value, path, root,
                                                             depth + 1):
        errs.append((fld, "FieldValueInvalid", 'Invalid value: "%s": %s in body must not match '
                     "the schema in not" % (_json_type(value), fld)))
    return errs
