"""Errors shaped like the real apiserver's Status objects, selectors, JSONPath, time."""
import datetime
import re

MAX_SELECTOR_LEN = 4096


class ApiError(Exception):
    """An error answered as a meta/v1 Status."""

    def __init__(self, code, reason, message, details=None, headers=None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    def status(self):
        s = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
             "message": self.message, "reason": self.reason}
        if self.details is not None:
            s["details"] = self.details
        s["code"] = self.code
        return s


def qualified(rt):
    return rt.plural + ("." + rt.group if rt.group else "")


def _details(rt, name, kind=None):
    d = {}
    if name:
        d["name"] = name
    if rt.group:
        d["group"] = rt.group
    d["kind"] = kind or rt.plural
    return d


def not_found(rt, name):
    return ApiError(404, "NotFound", '%s "%s" not found' % (qualified(rt), name),
                    _details(rt, name))


def already_exists(rt, name):
    return ApiError(409, "AlreadyExists", '%s "%s" already exists' % (qualified(rt), name),
                    _details(rt, name))


def conflict(rt, name, why="the object has been modified; please apply your changes to "
             "the latest version and try again"):
    return ApiError(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": %s'
                    % (qualified(rt), name, why), _details(rt, name))


def invalid(rt, name, causes):
    """causes: list of (field, reason, message-tail)."""
    parts = ["%s: %s" % (f, m) for f, _, m in causes]
    text = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    kind = rt.kind + ("." + rt.group if rt.group else "")
    d = _details(rt, name, rt.kind)
    d["causes"] = [{"reason": r, "message": m, "field": f} for f, r, m in causes]
    return ApiError(422, "Invalid", '%s "%s" is invalid: %s' % (kind, name, text), d)


def bad_request(msg):
    return ApiError(400, "BadRequest", msg)


def gone(msg):
    return ApiError(410, "Expired", msg)


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(s):
    try:
        s = s.replace("Z", "+00:00")
        return datetime.datetime.fromisoformat(s)
    except (ValueError, AttributeError):
        return None


def human_age(ts):
    t = parse_time(ts) if isinstance(ts, str) else None
    if t is None:
        return "<unknown>"
    sec = int((datetime.datetime.now(datetime.timezone.utc) - t).total_seconds())
    if sec < 0:
        sec = 0
    if sec < 120:
        return "%ds" % sec
    m = sec // 60
    if m < 10:
        return "%dm%ds" % (m, sec % 60) if sec % 60 else "%dm" % m
    if m < 180:
        return "%dm" % m
    h = m // 60
    if h < 48:
        return "%dh" % h
    return "%dd" % (h // 24)


def parse_bool(v, name="value"):
    """Go strconv.ParseBool."""
    if v in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if v in ("0", "f", "F", "FALSE", "false", "False", ""):
        return False
    raise bad_request('invalid %s: strconv.ParseBool: parsing "%s": invalid syntax' % (name, v))


# ---- label selectors ------------------------------------------------------------------

_LS_TOKEN = re.compile(r"\s*(!=|==|=|\(|\)|,|!|[^\s!=(),]+)")


def parse_label_selector(s):
    """Returns a list of (key, op, values) requirements; op in = != in notin exists !."""
    if s is None or s.strip() == "":
        return []
    if len(s) > MAX_SELECTOR_LEN:
        raise bad_request("labelSelector too long")
    toks, pos = [], 0
    while pos < len(s):
        m = _LS_TOKEN.match(s, pos)
        if not m or m.end() == pos:
            if s[pos:].strip() == "":
                break
            raise bad_request("unable to parse requirement: invalid label selector: %s" % s)
        toks.append(m.group(1))
        pos = m.end()
    reqs, i = [], 0

    def need(cond):
        if not cond:
            raise bad_request("unable to parse requirement: found '%s', expected: valid "
                              "label selector" % s)
    while i < len(toks):
        if toks[i] == "!":
            need(i + 1 < len(toks))
            reqs.append((toks[i + 1], "!", []))
            i += 2
        else:
            key = toks[i]
            need(key not in ("=", "==", "!=", "(", ")", ","))
            i += 1
            if i >= len(toks) or toks[i] == ",":
                reqs.append((key, "exists", []))
            elif toks[i] in ("=", "=="):
                need(i + 1 < len(toks) and toks[i + 1] not in (",", "(", ")"))
                reqs.append((key, "=", [toks[i + 1]]))
                i += 2
            elif toks[i] == "!=":
                need(i + 1 < len(toks) and toks[i + 1] not in (",", "(", ")"))
                reqs.append((key, "!=", [toks[i + 1]]))
                i += 2
            elif toks[i] in ("in", "notin"):
                op = toks[i]
                need(i + 1 < len(toks) and toks[i + 1] == "(")
                i += 2
                vals = []
                while i < len(toks) and toks[i] != ")":
                    if toks[i] != ",":
                        vals.append(toks[i])
                    i += 1
                need(i < len(toks))
                i += 1
                reqs.append((key, op, vals))
            else:
                need(False)
        if i < len(toks):
            need(toks[i] == ",")
            i += 1
    return reqs


def label_match(reqs, labels):
    labels = labels or {}
    for key, op, vals in reqs:
        have = key in labels
        v = labels.get(key)
        if op == "exists" and not have:
            return False
        if op == "!" and have:
            return False
        if op == "=" and v != vals[0]:
            return False
        if op == "!=" and have and v == vals[0]:
            return False
        if op == "in" and (not have or v not in vals):
            return False
        if op == "notin" and have and v in vals:
            return False
    return True


def parse_field_selector(s, allowed):
    """Returns [(field, op, value)]; allowed is the set of supported field labels."""
    if s is None or s.strip() == "":
        return []
    if len(s) > MAX_SELECTOR_LEN:
        raise bad_request("fieldSelector too long")
    out = []
    for part in s.split(","):
        part = part.strip()
        if not part:
            continue
        m = re.match(r"^([^=!]+?)\s*(!=|==|=)\s*(.*)$", part)
        if not m:
            raise bad_request('invalid selector: \'%s\'; can\'t understand \'%s\'' % (s, part))
        field, op, val = m.group(1).strip(), m.group(2), m.group(3).strip()
        if field not in allowed:
            raise bad_request('field label not supported: %s' % field)
        out.append((field, "!=" if op == "!=" else "=", val))
    return out


def get_path(obj, dotted):
    cur = obj
    for p in dotted.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(p)
    return cur


def field_match(reqs, obj):
    for field, op, val in reqs:
        v = get_path(obj, field)
        v = "" if v is None else (str(v).lower() if isinstance(v, bool) else str(v))
        if (op == "=") != (v == val):
            return False
    return True


# ---- JSONPath (the subset used by additionalPrinterColumns) --------------------------

def jsonpath(obj, path):
    """Evaluates .a.b[0][*][?(@.x=="y")].c; returns a list of results."""
    path = path.strip()
    if path.startswith("{") and path.endswith("}"):
        path = path[1:-1]
    if path.startswith("$"):
        path = path[1:]
    cur = [obj]
    i = 0
    while i < len(path):
        c = path[i]
        if c == ".":
            m = re.match(r"\.([A-Za-z0-9_\-/$]+)", path[i:])
            if not m:
                return []
            key = m.group(1)
            cur = [x[key] for x in cur if isinstance(x, dict) and key in x]
            i += m.end()
        elif c == "[":
            j = path.find("]", i)
            if path.startswith("[?(", i):
                j = path.find(")]", i) + 1
            if j <= i:
                return []
            inner = path[i + 1:j]
            i = j + 1
            if inner == "*":
                nxt = []
                for x in cur:
                    if isinstance(x, list):
                        nxt.extend(x)
                    elif isinstance(x, dict):
                        nxt.extend(x.values())
                cur = nxt
            elif inner.startswith("?(") and inner.endswith(")"):
                m = re.match(r'^\?\(@\.([A-Za-z0-9_.\-]+)\s*(==|!=)\s*["\']?(.*?)["\']?\)$',
                             inner)
                if not m:
                    return []
                fld, op, val = m.groups()
                nxt = []
                for x in cur:
                    for el in (x if isinstance(x, list) else []):
                        v = get_path(el, fld) if isinstance(el, dict) else None
                        sv = (str(v).lower() if isinstance(v, bool) else
                              (None if v is None else str(v)))
                        if (op == "==") == (sv == val):
                            nxt.append(el)
                cur = nxt
            elif re.match(r"^-?\d+$", inner):
                n = int(inner)
                cur = [x[n] for x in cur if isinstance(x, list) and -len(x) <= n < len(x)]
            else:
                key = inner.strip("'\"")
                cur = [x[key] for x in cur if isinstance(x, dict) and key in x]
        else:
            return []
    return cur
