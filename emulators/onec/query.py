"""OData v3 query options: the $filter lexer, recursive-descent parser and evaluator, $orderby, $top/$skip."""

import re
from collections import namedtuple

from .errors import bad_request
from .schema import COMPOSITE, COMPOSITE_TYPE, REF, TABLE

Composite = namedtuple("Composite", "value type")
Token = namedtuple("Token", "kind value pos")

TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
    |guid'(?P<guid>[^']*)'
    |datetime'(?P<datetime>[^']*)'
    |'(?P<string>(?:[^']|'')*)'
    |(?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)[mMdDlLfF]?
    |(?P<name>[^\W\d][\w/]*)
    |(?P<punct>[(),])
    """,
    re.VERBOSE,
)
GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?$")
COMPARISONS = {"eq", "ne", "gt", "ge", "lt", "le"}
ADDITIVE = {"add", "sub"}
MULTIPLICATIVE = {"mul", "div", "mod"}
KEYWORDS = COMPARISONS | ADDITIVE | MULTIPLICATIVE | {"and", "or", "not"}


def filter_error(detail, pos=None):
    where = f" (позиция {pos + 1})" if pos is not None else ""
    return bad_request(f"Ошибка разбора параметра запроса $filter: {detail}{where}")


# ---------------------------------------------------------------- literals


def normalize_datetime(text, pos=None):
    m = DATE_RE.match(text.strip())
    if not m:
        raise filter_error(f"неверный формат даты '{text}'", pos)
    y, mo, d, h, mi, s = (g or "00" for g in m.groups())
    return f"{y}-{mo}-{d}T{h}:{mi}:{s}"


def normalize_guid(text, pos=None):
    if not GUID_RE.match(text):
        raise filter_error(f"неверный формат уникального идентификатора '{text}'", pos)
    return text.lower()


# ---------------------------------------------------------------- lexer


def tokenize(text):
    tokens, pos = [], 0
    while pos < len(text):
        m = TOKEN_RE.match(text, pos)
        if not m:
            raise filter_error(f"недопустимый символ '{text[pos]}'", pos)
        kind = m.lastgroup
        if kind != "ws":
            tokens.append(_token(kind, m.group(kind), pos))
        pos = m.end()
    tokens.append(Token("end", None, len(text)))
    return tokens


def _token(kind, raw, pos):
    if kind == "guid":
        return Token("literal", normalize_guid(raw, pos), pos)
    if kind == "datetime":
        return Token("literal", normalize_datetime(raw, pos), pos)
    if kind == "string":
        return Token("literal", raw.replace("''", "'"), pos)
    if kind == "number":
        return Token("literal", float(raw) if any(c in raw for c in ".eE") else int(raw), pos)
    if kind == "name":
        low = raw.lower()
        if low in ("true", "false"):
            return Token("literal", low == "true", pos)
        if low == "null":
            return Token("literal", None, pos)
        if low in KEYWORDS:
            return Token("op", low, pos)
        return Token("name", raw, pos)
    return Token("punct", raw, pos)


# ---------------------------------------------------------------- parser (AST as tuples)


class Parser:
    """Precedence: or < and < comparison < additive < multiplicative < not < primary.

    Chains of the same operator are collected in loops, so 'a or b or c ...' stays flat.
    """

    def __init__(self, text):
        self.tokens = tokenize(text)
        self.i = 0

    def parse(self):
        node = self.parse_or()
        tok = self.peek()
        if tok.kind != "end":
            raise filter_error(f"неожиданная лексема '{tok.value}'", tok.pos)
        return node

    def peek(self):
        return self.tokens[self.i]

    def take(self):
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def accept_op(self, ops):
        tok = self.peek()
        if tok.kind == "op" and tok.value in ops:
            self.i += 1
            return tok.value
        return None

    def expect_punct(self, char):
        tok = self.take()
        if tok.kind != "punct" or tok.value != char:
            raise filter_error(f"ожидается '{char}'", tok.pos)

    def parse_or(self):
        items = [self.parse_and()]
        while self.accept_op({"or"}):
            items.append(self.parse_and())
        return items[0] if len(items) == 1 else ("or", items)

    def parse_and(self):
        items = [self.parse_comparison()]
        while self.accept_op({"and"}):
            items.append(self.parse_comparison())
        return items[0] if len(items) == 1 else ("and", items)

    def parse_comparison(self):
        left = self.parse_additive()
        op = self.accept_op(COMPARISONS)
        if op:
            return (op, left, self.parse_additive())
        return left

    def parse_additive(self):
        node = self.parse_multiplicative()
        while op := self.accept_op(ADDITIVE):
            node = (op, node, self.parse_multiplicative())
        return node

    def parse_multiplicative(self):
        node = self.parse_unary()
        while op := self.accept_op(MULTIPLICATIVE):
            node = (op, node, self.parse_unary())
        return node

    def parse_unary(self):
        if self.accept_op({"not"}):
            return ("not", self.parse_unary())
        return self.parse_primary()

    def parse_primary(self):
        tok = self.take()
        if tok.kind == "literal":
            return ("lit", tok.value)
        if tok.kind == "punct" and tok.value == "(":
            node = self.parse_or()
            self.expect_punct(")")
            return node
        if tok.kind == "name":
            nxt = self.peek()
            if nxt.kind == "punct" and nxt.value == "(":
                return self.parse_call(tok)
            return ("prop", tok.value, tok.pos)
        raise filter_error("ожидается выражение" if tok.kind == "end" else f"неожиданная лексема '{tok.value}'",
                           tok.pos)

    def parse_call(self, name_tok):
        self.expect_punct("(")
        args = []
        if not (self.peek().kind == "punct" and self.peek().value == ")"):
            args.append(self.parse_or())
            while self.peek().kind == "punct" and self.peek().value == ",":
                self.take()
                args.append(self.parse_or())
        self.expect_punct(")")
        return ("call", name_tok.value.lower(), args, name_tok.pos)


def parse_filter(text):
    try:
        return Parser(text).parse()
    except RecursionError:
        raise filter_error("слишком глубокая вложенность выражения") from None


# ---------------------------------------------------------------- evaluation


def _plain(value):
    return value.value if isinstance(value, Composite) else value


def values_equal(a, b):
    if isinstance(a, Composite) and isinstance(b, Composite):
        return a.value.lower() == b.value.lower() and a.type == b.type
    a, b = _plain(a), _plain(b)
    if isinstance(a, str) and isinstance(b, str) and GUID_RE.match(a) and GUID_RE.match(b):
        return a.lower() == b.lower()
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or a == b and type(a) is type(b)
    return a == b


def _ordered(op):
    def compare(a, b):
        a, b = _plain(a), _plain(b)
        if a is None or b is None:
            return False
        if isinstance(a, str) != isinstance(b, str):
            raise bad_request("Ошибка выполнения запроса: несовместимые типы в операции сравнения")
        return op(a, b)
    return compare


BINARY = {
    "eq": values_equal,
    "ne": lambda a, b: not values_equal(a, b),
    "gt": _ordered(lambda a, b: a > b),
    "ge": _ordered(lambda a, b: a >= b),
    "lt": _ordered(lambda a, b: a < b),
    "le": _ordered(lambda a, b: a <= b),
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b if b else 0,
    "mod": lambda a, b: a % b if b else 0,
}


def _date_part(start, end):
    def part(value):
        value = _plain(value)
        return int(value[start:end]) if isinstance(value, str) and len(value) >= end else 0
    return part


def _substring(s, start, length=None):
    return s[start:] if length is None else s[start:start + length]


def _cast(value, type_name):
    value = _plain(value)
    if isinstance(value, str) and GUID_RE.match(value):
        return Composite(value.lower(), f"StandardODATA.{type_name}")
    return value


def _isof(value, type_name=None):
    return isinstance(value, Composite) and value.type == f"StandardODATA.{type_name}"


FUNCTIONS = {
    "substringof": (2, lambda a, b: str(_plain(a)) in str(_plain(b))),
    "startswith": (2, lambda a, b: str(_plain(a)).startswith(str(_plain(b)))),
    "endswith": (2, lambda a, b: str(_plain(a)).endswith(str(_plain(b)))),
    "indexof": (2, lambda a, b: str(_plain(a)).find(str(_plain(b)))),
    "length": (1, lambda a: len(str(_plain(a)))),
    "tolower": (1, lambda a: str(_plain(a)).lower()),
    "toupper": (1, lambda a: str(_plain(a)).upper()),
    "trim": (1, lambda a: str(_plain(a)).strip()),
    "concat": (2, lambda a, b: str(_plain(a)) + str(_plain(b))),
    "substring": ((2, 3), lambda s, i, n=None: _substring(str(_plain(s)), int(i), None if n is None else int(n))),
    "year": (1, _date_part(0, 4)),
    "month": (1, _date_part(5, 7)),
    "day": (1, _date_part(8, 10)),
    "hour": (1, _date_part(11, 13)),
    "minute": (1, _date_part(14, 16)),
    "second": (1, _date_part(17, 19)),
    "round": (1, lambda a: round(_plain(a))),
    "floor": (1, lambda a: int(_plain(a) // 1)),
    "ceiling": (1, lambda a: -int(-_plain(a) // 1)),
    "cast": (2, _cast),
    "isof": (2, _isof),
}


class Compiler:
    """Turns an AST into a function row -> value for one entity set."""

    def __init__(self, entity_set, store):
        self.es = entity_set
        self.store = store

    def compile(self, node):
        kind = node[0]
        if kind == "lit":
            value = node[1]
            return lambda row: value
        if kind == "prop":
            return self.compile_prop(node[1], node[2])
        if kind == "or":
            parts = [self.compile(n) for n in node[1]]
            return lambda row: any(p(row) for p in parts)
        if kind == "and":
            parts = [self.compile(n) for n in node[1]]
            return lambda row: all(p(row) for p in parts)
        if kind == "not":
            inner = self.compile(node[1])
            return lambda row: not inner(row)
        if kind == "call":
            return self.compile_call(node)
        fn = BINARY[kind]
        left, right = self.compile(node[1]), self.compile(node[2])
        return lambda row: fn(left(row), right(row))

    def compile_prop(self, name, pos=None):
        if "/" in name:
            return self.compile_navigation(name, pos)
        return property_getter(self.es, name, pos)

    def compile_navigation(self, path, pos):
        head, rest = path.split("/", 1)
        prop = self.es.prop(head + "_Key")
        if not prop or prop.kind != REF or prop.target not in self.store.schema:
            raise filter_error(f"неизвестное свойство навигации '{head}'", pos)
        key_getter = property_getter(self.es, prop.name)
        target_es = self.store.schema[prop.target]
        inner = Compiler(target_es, self.store).compile_prop(rest, pos)
        store, target = self.store, prop.target

        def navigate(row):
            obj = store.get(target, key_getter(row))
            return inner(obj) if obj is not None else None
        return navigate

    def compile_call(self, node):
        _, name, args, pos = node
        if name not in FUNCTIONS:
            raise filter_error(f"неизвестная функция '{name}'", pos)
        arity, fn = FUNCTIONS[name]
        allowed = arity if isinstance(arity, tuple) else (arity,)
        if len(args) not in allowed:
            raise filter_error(f"неверное количество параметров функции '{name}'", pos)
        if name in ("cast", "isof") and args[-1][0] != "lit":
            raise filter_error(f"второй параметр функции '{name}' должен быть строкой", pos)
        compiled = [self.compile(a) for a in args]
        return lambda row: fn(*(c(row) for c in compiled))


def property_getter(es, name, pos=None):
    prop = es.prop(name)
    if prop is None:
        if name in es.tables:
            raise filter_error(f"табличная часть '{name}' не может использоваться в условии", pos)
        raise filter_error(f"неизвестное свойство '{name}' сущности {es.name}", pos)
    default = prop.default
    if prop.kind == COMPOSITE:
        type_name = name + "_Type"

        def composite(row):
            value = row.get(name, "")
            return Composite(value, row.get(type_name, "StandardODATA.Undefined")) if value else value
        return composite
    if prop.kind == COMPOSITE_TYPE or prop.kind == TABLE:
        return lambda row: row.get(name, default)
    return lambda row: row.get(name, default)


# ---------------------------------------------------------------- index planning


def index_plan(node):
    """(property, set of values) when the filter implies 'property in values'; else None."""
    kind = node[0]
    if kind == "eq":
        return _eq_plan(node)
    if kind == "or":
        plans = [_eq_plan(n) if n[0] == "eq" else None for n in node[1]]
        if plans and all(plans) and len({p[0] for p in plans}) == 1:
            return plans[0][0], set().union(*(p[1] for p in plans))
        return None
    if kind == "and":
        for part in node[1]:
            plan = index_plan(part)
            if plan:
                return plan
    return None


def _eq_plan(node):
    _, left, right = node
    if left[0] != "prop":
        left, right = right, left
    if left[0] != "prop" or "/" in left[1]:
        return None
    value = _literal_value(right)
    if value is None or isinstance(value, bool | int | float):
        return None
    return left[1], {value.lower()}


def _literal_value(node):
    if node[0] == "lit":
        return node[1]
    if node[0] == "call" and node[1] == "cast" and len(node[2]) == 2 and node[2][0][0] == "lit":
        return node[2][0][1]
    return None


def filter_rows(store, es, rows, text, row_source=None):
    """Rows matching $filter text. row_source names the set whose index may be used."""
    ast = parse_filter(text)
    predicate = Compiler(es, store).compile(ast)
    candidates = rows
    if row_source:
        plan = index_plan(ast)
        if plan and es.prop(plan[0]) and es.prop(plan[0]).kind not in (COMPOSITE_TYPE,):
            idx = store.index(row_source, plan[0], rows)
            positions = sorted({p for v in plan[1] for p in idx.get(v, ())})
            candidates = [rows[p] for p in positions]
    try:
        return [row for row in candidates if predicate(row)]
    except (TypeError, ValueError) as exc:
        raise bad_request(f"Ошибка выполнения запроса $filter: {exc}") from None


# ---------------------------------------------------------------- $orderby, $top, $skip


def _sort_key(value):
    value = _plain(value)
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, int | float):
        return (2, value)
    return (3, str(value))


def order_rows(store, es, rows, text):
    keys = []
    for part in split_top_level(text):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise bad_request(f"Ошибка разбора параметра запроса $orderby: '{part}'")
        head = words[0].split("/", 1)[0]
        if es.prop(head) is None and es.prop(head + "_Key") is None:
            raise bad_request(f"Ошибка разбора параметра запроса $orderby: неизвестное свойство '{words[0]}'")
        getter = Compiler(es, store).compile_prop(words[0])
        keys.append((getter, len(words) == 2 and words[1].lower() == "desc"))
    rows = list(rows)
    for getter, desc in reversed(keys):
        rows.sort(key=lambda r, g=getter: _sort_key(g(r)), reverse=desc)
    return rows


def parse_count(name, text):
    try:
        value = int(text)
    except ValueError:
        raise bad_request(f"Неверное значение параметра запроса {name}: '{text}'") from None
    if value < 0:
        raise bad_request(f"Неверное значение параметра запроса {name}: '{text}'")
    return value


def split_top_level(text, sep=","):
    """Split on sep outside quotes and parentheses."""
    parts, depth, quoted, start = [], 0, False, 0
    for i, ch in enumerate(text):
        if ch == "'":
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        elif not quoted and depth == 0 and ch == sep:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]
