"""JSON shaping of entities: $select, $expand, embedded tabular parts and @navigationLinkUrl annotations."""

from .errors import bad_request
from .query import split_top_level
from .schema import COMPOSITE, REF
from .store import is_empty_ref, table_rows


def parse_select(es, text):
    """Set of selected top-level property names, or None for all."""
    if not text or text.strip() == "*":
        return None
    selected = set()
    for item in split_top_level(text):
        head = item.split("/", 1)[0]
        if head == "*":
            return None
        prop = es.prop(head)
        if prop is None and head not in es.tables and not es.prop(head + "_Key"):
            raise bad_request(f"Ошибка разбора параметра запроса $select: неизвестное свойство '{head}'")
        selected.add(head)
        if prop is not None and prop.kind == COMPOSITE:
            selected.add(head + "_Type")
        if head.endswith("_Type") and es.prop(head[:-5]):
            selected.add(head[:-5])
    return selected or None


def parse_expand(es, text):
    """{navigation name: nested expand dict}."""
    tree = {}
    for item in split_top_level(text or ""):
        node = tree
        for name in item.split("/"):
            node = node.setdefault(name.strip(), {})
    for name in tree:
        prop = es.prop(name + "_Key") or es.prop(name)
        if prop is None or prop.kind not in (REF, COMPOSITE):
            raise bad_request(f"Ошибка разбора параметра запроса $expand: неизвестное свойство навигации '{name}'")
    return tree


class Renderer:
    def __init__(self, store, links=True):
        self.store = store
        self.links = links

    def entity(self, es, row, select=None, expand=None):
        out = {}
        for prop in es.props:
            if select is None or prop.name in select:
                value = row.get(prop.name)
                out[prop.name] = prop.default if value is None else value
        for ts_name, ts in es.tables.items():
            if select is None or ts_name in select:
                out[ts_name] = self.table(es, ts, row, ts_name)
        if expand:
            self.add_expanded(es, row, out, expand)
        if self.links and es.kind in ("catalog", "document"):
            self.add_links(es, row, out, select)
        return out

    def table(self, es, ts, row, ts_name):
        rows = row.get(ts_name) or []
        if es.kind != "recordset":
            rows = table_rows(row["Ref_Key"], rows)
        return [self.entity(ts, r) for r in rows]

    def add_links(self, es, row, out, select):
        ref = row["Ref_Key"]
        for prop in es.props:
            if prop.kind == REF and (select is None or prop.name in select) and prop.name.endswith("_Key"):
                nav = prop.name[:-4]
                out[f"{nav}@navigationLinkUrl"] = f"{es.name}(guid'{ref}')/{nav}"

    def add_expanded(self, es, row, out, expand):
        for nav, sub in expand.items():
            target_set, ref = self.reference_of(es, row, nav)
            obj = self.store.get(target_set, ref) if target_set and not is_empty_ref(ref) else None
            target_es = self.store.schema.get(target_set)
            out[nav] = self.entity(target_es, obj, expand=sub) if obj is not None else None

    def reference_of(self, es, row, nav):
        prop = es.prop(nav + "_Key")
        if prop is not None:
            return prop.target, row.get(prop.name)
        type_name = row.get(nav + "_Type") or ""
        return type_name.replace("StandardODATA.", ""), row.get(nav)
