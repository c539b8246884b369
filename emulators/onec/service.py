"""The OData resource tree: service document, $metadata, entity sets, keys, tabular parts, virtual tables."""

import re
from dataclasses import dataclass

from .errors import bad_request, entity_not_found, resource_not_found
from .query import filter_rows, normalize_guid, order_rows, parse_count, split_top_level
from .render import Renderer, parse_expand, parse_select
from .schema import metadata_xml
from .store import table_rows
from .virtual import FUNCTION_RE, VIRTUAL_FUNCTIONS, run_virtual

SEGMENT_RE = re.compile(r"^([^()]+)(?:\((.*)\))?$", re.DOTALL)
KNOWN_OPTIONS = {"$filter", "$select", "$orderby", "$top", "$skip", "$expand", "$format", "$inlinecount",
                 "allowedOnly", "$count"}


@dataclass
class Response:
    status: int
    body: object  # dict/list -> JSON, str -> text
    content_type: str = "application/json;charset=utf-8"
    entity_set: str = ""


class ODataService:
    def __init__(self, store, odata_url):
        self.store = store
        self.odata_url = odata_url

    def handle(self, resource, options):
        """resource: path after standard.odata/ (decoded); options: {name: value} (decoded)."""
        no_metadata = "nometadata" in options.get("$format", "")
        segments = split_top_level(resource.strip("/"), "/") if resource.strip("/") else []
        if not segments:
            return Response(200, self.service_document())
        if segments == ["$metadata"]:
            return Response(200, metadata_xml(), "application/xml;charset=utf-8")
        m = SEGMENT_RE.match(segments[0])
        if not m or m.group(1) not in self.store.schema:
            raise resource_not_found(segments[0].split("(")[0])
        set_name, key = m.group(1), m.group(2)
        ctx = Context(self, set_name, options, no_metadata)
        return ctx.resolve(key, segments[1:])

    def service_document(self):
        return {"odata.metadata": f"{self.odata_url}$metadata",
                "value": [{"name": n, "url": n} for n in self.store.schema]}


class Context:
    """One request against one entity set."""

    def __init__(self, service, set_name, options, no_metadata):
        self.service = service
        self.store = service.store
        self.set_name = set_name
        self.es = self.store.schema[set_name]
        self.options = options
        self.no_metadata = no_metadata
        self.renderer = Renderer(self.store, links=not no_metadata)

    def metadata_url(self, suffix):
        return f"{self.service.odata_url}$metadata#{suffix}"

    def resolve(self, key, rest):
        if key is None:
            if rest and FUNCTION_RE.match(rest[0]):
                fm = FUNCTION_RE.match(rest[0])
                es, rows = run_virtual(self.store, self.set_name, fm.group(1), fm.group(2))
                return self.collection(es, rows, rest[1:], index_source=None)
            if rest and rest[0] != "$count":
                raise resource_not_found(rest[0])
            return self.collection(self.es, self.store.rows(self.set_name), rest, index_source=self.set_name)
        row = self.find(key)
        if not rest:
            return self.single(self.es, row, self.set_name)
        return self.below_entity(row, rest)

    # ------------------------------------------------------------ single entities

    def find(self, key):
        key = key.strip()
        if key.startswith("guid'") or key.startswith("Ref_Key="):
            ref = normalize_key_guid(key.split("=", 1)[-1] if key.startswith("Ref_Key=") else key)
            objects = self.store.objects.get(self.set_name)
            if objects is None:
                raise bad_request(f"Неверный формат ключа сущности {self.set_name}")
            obj = objects.get(ref)
            if obj is None:
                raise entity_not_found()
            return obj
        params = parse_key_params(key)
        required = {"info_register": [p.name for p in self.es.dimensions], "recordset": ["Recorder"]}.get(
            self.es.kind, ["Ref_Key"])
        if not set(required) <= set(params):
            raise bad_request(f"Неверный формат ключа сущности {self.set_name}: нужны {', '.join(required)}")
        for row in self.store.rows(self.set_name):
            if all(str(row.get(k, self.es.default(k))).lower() == v.lower() for k, v in params.items()):
                return row
        raise entity_not_found()

    def single(self, es, row, metadata_name):
        select = parse_select(es, self.options.get("$select"))
        expand = parse_expand(es, self.options.get("$expand"))
        body = self.renderer.entity(es, row, select, expand)
        if not self.no_metadata:
            body = {"odata.metadata": self.metadata_url(f"{metadata_name}/@Element"), **body}
        return Response(200, body, entity_set=self.set_name)

    def below_entity(self, row, rest):
        name = rest[0]
        if name in self.es.tables:
            ts = self.es.tables[name]
            rows = row.get(name) or []
            rows = rows if self.es.kind == "recordset" else table_rows(row["Ref_Key"], rows)
            return self.collection(ts, rows, rest[1:], index_source=None)
        prop = self.es.prop(name + "_Key")
        if prop is not None and prop.target in self.store.schema:
            target = self.store.get(prop.target, row.get(prop.name))
            if target is None:
                raise entity_not_found()
            return self.single(self.store.schema[prop.target], target, prop.target)
        raise resource_not_found(name)

    # ------------------------------------------------------------ collections

    def collection(self, es, rows, rest, index_source):
        opts = self.options
        if opts.get("$filter"):
            rows = filter_rows(self.store, es, rows, opts["$filter"], row_source=index_source)
        if opts.get("$orderby"):
            rows = order_rows(self.store, es, rows, opts["$orderby"])
        total = len(rows)
        skip = parse_count("$skip", opts["$skip"]) if "$skip" in opts else 0
        top = parse_count("$top", opts["$top"]) if "$top" in opts else None
        rows = rows[skip:] if top is None else rows[skip:skip + top]
        if rest == ["$count"]:
            return Response(200, str(len(rows)), "text/plain;charset=utf-8", entity_set=self.set_name)
        if rest:
            raise resource_not_found(rest[0])
        select = parse_select(es, opts.get("$select"))
        expand = parse_expand(es, opts.get("$expand"))
        body = {}
        if not self.no_metadata:
            body["odata.metadata"] = self.metadata_url(es.name)
        inline = opts.get("$inlinecount")
        if inline and inline not in ("allpages", "none"):
            raise bad_request(f"Неверное значение параметра запроса $inlinecount: '{inline}'")
        if inline == "allpages":
            body["odata.count"] = str(total)
        body["value"] = [self.renderer.entity(es, r, select, expand) for r in rows]
        return Response(200, body, entity_set=self.set_name)


def normalize_key_guid(text):
    text = text.strip()
    if not (text.startswith("guid'") and text.endswith("'")):
        raise bad_request(f"Неверный формат ключа сущности: {text}")
    try:
        return normalize_guid(text[5:-1])
    except Exception:
        raise bad_request(f"Неверный формат ключа сущности: {text}") from None


def parse_key_params(key):
    params = {}
    for part in split_top_level(key):
        if "=" not in part:
            raise bad_request(f"Неверный формат ключа сущности: {key}")
        name, raw = (s.strip() for s in part.split("=", 1))
        if raw.startswith("guid'"):
            value = normalize_key_guid(raw)
        elif raw.startswith("'") and raw.endswith("'"):
            value = raw[1:-1].replace("''", "'")
        else:
            value = raw
        params[name] = value
    return params


__all__ = ["ODataService", "Response", "KNOWN_OPTIONS", "VIRTUAL_FUNCTIONS"]
