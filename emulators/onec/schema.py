"""Entity sets of the УТ 10.3 OData publication: properties, types, defaults and the $metadata CSDL."""

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

EMPTY_REF = "00000000-0000-0000-0000-000000000000"
EMPTY_DATE = "0001-01-01T00:00:00"
UNDEFINED_TYPE = "StandardODATA.Undefined"
NAMESPACE = "StandardODATA"
METADATA_FILE = Path(__file__).parent / "data" / "ut103-metadata.json"

# Property kinds.
STRING, DECIMAL, BOOLEAN, DATE, GUID, REF, COMPOSITE, COMPOSITE_TYPE, ENUM, TABLE = (
    "string", "decimal", "boolean", "date", "guid", "ref", "composite", "composite_type", "enum", "table",
)
EDM = {
    STRING: "Edm.String", DECIMAL: "Edm.Double", BOOLEAN: "Edm.Boolean", DATE: "Edm.DateTime",
    GUID: "Edm.Guid", REF: "Edm.Guid", COMPOSITE: "Edm.String", COMPOSITE_TYPE: "Edm.String",
    ENUM: "Edm.String",
}
DEFAULTS = {
    STRING: "", DECIMAL: 0, BOOLEAN: False, DATE: EMPTY_DATE, GUID: EMPTY_REF, REF: EMPTY_REF,
    COMPOSITE: "", COMPOSITE_TYPE: UNDEFINED_TYPE, ENUM: "",
}

# Structural facts the metadata json does not carry (reference §2).
CATALOG_SHAPES = {
    # name: (hierarchical, owner types (None | [..]), code length)
    "Контрагенты": (True, None, 9),
    "КонтактныеЛицаКонтрагентов": (False, ["Контрагенты"], 9),
    "КонтактныеЛица": (False, None, 9),
    "БанковскиеСчета": (False, ["Контрагенты", "Организации"], 9),
    "Банки": (True, None, 9),
    "Валюты": (False, None, 3),
    "ДоговорыКонтрагентов": (True, ["Контрагенты"], 9),
    "Организации": (False, None, 9),
    "Пользователи": (False, None, 9),
    "Номенклатура": (True, None, 11),
    "КлассификаторЕдиницИзмерения": (False, None, 4),
    "ЕдиницыИзмерения": (False, ["Номенклатура", "НоменклатурныеГруппы"], 9),
    "ТипыЦенНоменклатуры": (False, None, 9),
    "ВидыКонтактнойИнформации": (False, None, 9),
}

# Objects the json does not describe, written here in the same format (reference §2.7, §2.8).
EXTRA_SETS = {
    "Document_УстановкаЦенНоменклатуры": {
        "attributes": {
            "Комментарий": {"odata": ["Комментарий"], "types": ["string"]},
            "Ответственный": {"odata": ["Ответственный_Key"], "types": ["CatalogRef.Пользователи"]},
            "НеПроводитьНулевыеЗначения": {"odata": ["НеПроводитьНулевыеЗначения"], "types": ["boolean"]},
        },
        "tabular_parts": {
            "Товары": {
                "Номенклатура": {"odata": ["Номенклатура_Key"], "types": ["CatalogRef.Номенклатура"]},
                "ХарактеристикаНоменклатуры": {
                    "odata": ["ХарактеристикаНоменклатуры_Key"],
                    "types": ["CatalogRef.ХарактеристикиНоменклатуры"],
                },
                "ТипЦен": {"odata": ["ТипЦен_Key"], "types": ["CatalogRef.ТипыЦенНоменклатуры"]},
                "Цена": {"odata": ["Цена"], "types": ["decimal"]},
                "Валюта": {"odata": ["Валюта_Key"], "types": ["CatalogRef.Валюты"]},
                "ЕдиницаИзмерения": {"odata": ["ЕдиницаИзмерения_Key"], "types": ["CatalogRef.ЕдиницыИзмерения"]},
                "ПроцентСкидкиНаценки": {"odata": ["ПроцентСкидкиНаценки"], "types": ["decimal"]},
                "СпособРасчетаЦены": {"odata": ["СпособРасчетаЦены"], "types": ["EnumRef.СпособыРасчетаЦены"]},
            }
        },
    },
    "Document_ЗакрытиеЗаказовПокупателей": {
        "attributes": {
            "ВидОперации": {"odata": ["ВидОперации"], "types": ["EnumRef.ВидыОперацийЗакрытиеЗаказов"]},
            "Организация": {"odata": ["Организация_Key"], "types": ["CatalogRef.Организации"]},
            "Ответственный": {"odata": ["Ответственный_Key"], "types": ["CatalogRef.Пользователи"]},
            "Комментарий": {"odata": ["Комментарий"], "types": ["string"]},
        },
        "tabular_parts": {
            "Заказы": {
                "ЗаказПокупателя": {
                    "odata": ["ЗаказПокупателя", "ЗаказПокупателя_Type"],
                    "types": ["DocumentRef.ЗаказПокупателя", "DocumentRef.ВнутреннийЗаказ"],
                },
                "ПричинаЗакрытияЗаказа": {
                    "odata": ["ПричинаЗакрытияЗаказа_Key"], "types": ["CatalogRef.ПричиныЗакрытияЗаказов"],
                },
            }
        },
    },
}

ACCUMULATION_REGISTERS = ("РасчетыСКонтрагентами", "ЗаказыПокупателей")
RECORDER_INFO_REGISTERS = ("ЦеныНоменклатуры",)


@dataclass
class Prop:
    name: str
    kind: str
    target: str = ""  # entity set of a single-type reference
    types: list = field(default_factory=list)  # for composites: the allowed entity sets

    @property
    def default(self):
        return DEFAULTS.get(self.kind)


@dataclass
class EntitySet:
    name: str
    kind: str  # catalog | document | tabular | info_register | recordset | record_type
    props: list  # ordered Prop list (without tabular parts)
    tables: dict = field(default_factory=dict)  # TS name -> EntitySet of its rows
    hierarchical: bool = False
    owner: list | None = None
    code_length: int = 9
    parent: str = ""  # tabular/record sets: owning set name
    dimensions: list = field(default_factory=list)
    resources: list = field(default_factory=list)

    def __post_init__(self):
        self.by_name = {p.name: p for p in self.props}

    def prop(self, name):
        return self.by_name.get(name)

    def default(self, name):
        prop = self.by_name.get(name)
        return prop.default if prop else None

    @property
    def all_names(self):
        return [p.name for p in self.props] + list(self.tables)


def set_name_of(type_name):
    """'CatalogRef.Банки' -> 'Catalog_Банки'; primitive types -> ''."""
    if "Ref." not in type_name:
        return ""
    kind, name = type_name.split("Ref.", 1)
    return f"{kind}_{name}"


def props_of_attribute(odata_names, types):
    if len(odata_names) == 2:
        return [
            Prop(odata_names[0], COMPOSITE, types=[set_name_of(t) for t in types]),
            Prop(odata_names[1], COMPOSITE_TYPE),
        ]
    name, type_name = odata_names[0], types[0]
    if name.endswith("_Key"):
        return [Prop(name, REF, target=set_name_of(type_name))]
    kind = {"string": STRING, "decimal": DECIMAL, "boolean": BOOLEAN, "dateTime": DATE, "UUID": GUID}.get(
        type_name, ENUM if type_name.startswith("EnumRef.") else STRING
    )
    return [Prop(name, kind)]


def props_of_attributes(attributes, roles=None):
    props = []
    for attr in attributes.values():
        if roles and attr.get("role") not in roles:
            continue
        props.extend(props_of_attribute(attr["odata"], attr["types"]))
    return props


def owner_props(owner):
    if owner is None:
        return []
    if len(owner) == 1:
        return [Prop("Owner_Key", REF, target=f"Catalog_{owner[0]}")]
    return [Prop("Owner", COMPOSITE, types=[f"Catalog_{o}" for o in owner]), Prop("Owner_Type", COMPOSITE_TYPE)]


def catalog_set(name, meta):
    short = name.split("_", 1)[1]
    hierarchical, owner, code_length = CATALOG_SHAPES[short]
    # Field order as observed in a real УТ 10.3-family answer (reference §1.4).
    props = [Prop("Ref_Key", GUID), Prop("DataVersion", STRING), Prop("DeletionMark", BOOLEAN),
             Prop("Predefined", BOOLEAN)]
    props += owner_props(owner)
    if hierarchical:
        props += [Prop("Parent_Key", REF, target=name), Prop("IsFolder", BOOLEAN)]
    props += [Prop("Code", STRING), Prop("Description", STRING)]
    props += props_of_attributes(meta["attributes"])
    return EntitySet(name, "catalog", props, hierarchical=hierarchical, owner=owner, code_length=code_length)


def document_set(name, meta):
    props = [
        Prop("Ref_Key", GUID), Prop("DataVersion", STRING), Prop("DeletionMark", BOOLEAN),
        Prop("Number", STRING), Prop("Date", DATE), Prop("Posted", BOOLEAN),
    ]
    props += props_of_attributes(meta["attributes"])
    return EntitySet(name, "document", props, code_length=11)


def tabular_set(owner, ts_name, attributes):
    props = [Prop("Ref_Key", GUID), Prop("LineNumber", STRING)] + props_of_attributes(attributes)
    return EntitySet(f"{owner.name}_{ts_name}", "tabular", props, parent=owner.name)


def info_register_set(name, meta):
    dims = props_of_attributes(meta["attributes"], roles={"Dimension"})
    res = props_of_attributes(meta["attributes"], roles={"Resource", "Attribute"})
    return EntitySet(name, "info_register", dims + res, dimensions=dims, resources=res)


def record_type_set(name, meta, accumulation):
    dims = props_of_attributes(meta["attributes"], roles={"Dimension"})
    res = props_of_attributes(meta["attributes"], roles={"Resource"})
    attrs = props_of_attributes(meta["attributes"], roles={"Attribute"})
    props = [
        Prop("Recorder", COMPOSITE, types=[]), Prop("Recorder_Type", COMPOSITE_TYPE),
        Prop("Period", DATE), Prop("LineNumber", STRING), Prop("Active", BOOLEAN),
    ]
    if accumulation:
        props.append(Prop("RecordType", ENUM))
    return EntitySet(f"{name}_RecordType", "record_type", props + dims + res + attrs, parent=name,
                     dimensions=dims, resources=res)


def record_set(name, rows_set):
    props = [Prop("Recorder", COMPOSITE, types=[]), Prop("Recorder_Type", COMPOSITE_TYPE)]
    return EntitySet(name, "recordset", props, tables={"RecordSet": rows_set}, parent=rows_set.name,
                     dimensions=rows_set.dimensions, resources=rows_set.resources)


@lru_cache(maxsize=1)
def build_schema():
    """All served entity sets by name, in publication order."""
    meta = json.loads(METADATA_FILE.read_text(encoding="utf-8"))
    meta.update(EXTRA_SETS)
    sets = {}
    for name, item in meta.items():
        kind = name.split("_", 1)[0]
        short = name.split("_", 1)[1]
        if kind == "Catalog":
            es = catalog_set(name, item)
        elif kind == "Document":
            es = document_set(name, item)
        elif kind == "InformationRegister" and short in RECORDER_INFO_REGISTERS:
            rows = record_type_set(name, item, accumulation=False)
            sets[name] = record_set(name, rows)
            sets[rows.name] = rows
            continue
        elif kind == "InformationRegister":
            sets[name] = info_register_set(name, item)
            continue
        elif kind == "AccumulationRegister":
            rows = record_type_set(name, item, accumulation=True)
            sets[name] = record_set(name, rows)
            sets[rows.name] = rows
            continue
        else:
            continue
        sets[name] = es
        for ts_name, ts_attrs in (item.get("tabular_parts") or {}).items():
            ts = tabular_set(es, ts_name, ts_attrs)
            es.tables[ts_name] = ts
            sets[ts.name] = ts
    return sets


# ---------------------------------------------------------------- $metadata CSDL


def _property_xml(prop):
    return f'<Property Name="{escape(prop.name)}" Type="{EDM[prop.kind]}" Nullable="false"/>'


def _row_type_name(es):
    return f"{es.name}_RowType"


def _entity_type_xml(es, sets):
    keys = {
        "catalog": ["Ref_Key"], "document": ["Ref_Key"], "tabular": ["Ref_Key", "LineNumber"],
        "record_type": ["Recorder", "LineNumber"], "recordset": ["Recorder"],
        "info_register": [p.name for p in es.dimensions],
    }[es.kind]
    lines = [f'<EntityType Name="{escape(es.name)}">', "<Key>"]
    lines += [f'<PropertyRef Name="{escape(k)}"/>' for k in keys]
    lines.append("</Key>")
    lines += [_property_xml(p) for p in es.props]
    for ts_name, ts in es.tables.items():
        lines.append(
            f'<Property Name="{escape(ts_name)}" Type="Collection({NAMESPACE}.{escape(_row_type_name(ts))})"'
            ' Nullable="false"/>'
        )
    for p in es.props:
        if p.kind == REF and p.target in sets and es.kind in ("catalog", "document"):
            nav = p.name[: -len("_Key")]
            lines.append(
                f'<NavigationProperty Name="{escape(nav)}" Relationship="{NAMESPACE}.{escape(es.name)}_{escape(nav)}"'
                f' FromRole="Begin" ToRole="End"/>'
            )
    lines.append("</EntityType>")
    return lines


def _complex_type_xml(ts):
    lines = [f'<ComplexType Name="{escape(_row_type_name(ts))}">']
    lines += [_property_xml(p) for p in ts.props]
    lines.append("</ComplexType>")
    return lines


def _associations_xml(sets):
    assoc, assoc_sets = [], []
    for es in sets.values():
        if es.kind not in ("catalog", "document"):
            continue
        for p in es.props:
            if p.kind != REF or p.target not in sets:
                continue
            nav = p.name[: -len("_Key")]
            name = escape(f"{es.name}_{nav}")
            assoc.append(
                f'<Association Name="{name}"><End Role="Begin" Type="{NAMESPACE}.{escape(es.name)}"'
                f' Multiplicity="*"/><End Role="End" Type="{NAMESPACE}.{escape(p.target)}"'
                ' Multiplicity="0..1"/></Association>'
            )
            assoc_sets.append(
                f'<AssociationSet Name="{name}" Association="{NAMESPACE}.{name}">'
                f'<End Role="Begin" EntitySet="{escape(es.name)}"/><End Role="End"'
                f' EntitySet="{escape(p.target)}"/></AssociationSet>'
            )
    return assoc, assoc_sets


@lru_cache(maxsize=1)
def metadata_xml():
    sets = build_schema()
    body = []
    for es in sets.values():
        body += _entity_type_xml(es, sets)
        for ts in es.tables.values():
            body += _complex_type_xml(ts)
    assoc, assoc_sets = _associations_xml(sets)
    container = ['<EntityContainer Name="InfoBase" m:IsDefaultEntityContainer="true">']
    container += [f'<EntitySet Name="{escape(n)}" EntityType="{NAMESPACE}.{escape(n)}"/>' for n in sets]
    container += assoc_sets
    container.append("</EntityContainer>")
    return "\n".join(
        [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<edmx:Edmx xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx" Version="1.0">',
            '<edmx:DataServices xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"'
            ' m:DataServiceVersion="3.0">',
            f'<Schema xmlns="http://schemas.microsoft.com/ado/2009/11/edm" Namespace="{NAMESPACE}">',
            *body,
            *assoc,
            *container,
            "</Schema>",
            "</edmx:DataServices>",
            "</edmx:Edmx>",
        ]
    )
