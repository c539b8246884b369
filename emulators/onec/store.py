"""In-memory infobase: objects with DataVersion, tabular parts, register records and lookup indexes."""

import base64
import random
import threading
import uuid
from collections import defaultdict

from .schema import EMPTY_REF, build_schema


def composite_type(set_name):
    return f"StandardODATA.{set_name}" if set_name else "StandardODATA.Undefined"


class Store:
    """Thread-safe storage. Objects are sparse dicts: absent properties take the schema default."""

    def __init__(self, seed=1):
        self.schema = build_schema()
        self.lock = threading.RLock()
        self.rng = random.Random(f"store-{seed}")
        self.objects = {n: {} for n, es in self.schema.items() if es.kind in ("catalog", "document")}
        self.info_rows = {n: [] for n, es in self.schema.items() if es.kind == "info_register"}
        self.movements = {n: {} for n, es in self.schema.items() if es.kind == "recordset"}
        self.recorder_types = {n: {} for n in self.movements}  # register -> recorder ref -> its set name
        self.by_deal = {n: defaultdict(set) for n in self.movements}  # register -> deal/order ref -> recorders
        self.invoices_by_order = defaultdict(list)
        self.generation = defaultdict(int)
        self._version = 0x13000000
        self._numbers = defaultdict(int)
        self._codes = defaultdict(int)
        self._cache = {}

    # ------------------------------------------------------------ identity and versions

    def new_ref(self):
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def next_data_version(self):
        self._version += 1
        return base64.b64encode(self._version.to_bytes(8, "big")).decode()

    def next_code(self, set_name):
        self._codes[set_name] += 1
        return str(self._codes[set_name]).zfill(self.schema[set_name].code_length)

    def next_number(self, set_name, prefix):
        self._numbers[set_name] += 1
        return prefix + str(self._numbers[set_name]).zfill(11 - len(prefix))

    def touch(self, set_name):
        self.generation[set_name] += 1

    # ------------------------------------------------------------ objects

    def put(self, set_name, obj):
        """Insert or replace an object; gives it a fresh DataVersion."""
        with self.lock:
            obj.setdefault("Ref_Key", self.new_ref())
            obj["DataVersion"] = self.next_data_version()
            self.objects[set_name][obj["Ref_Key"]] = obj
            self.touch(set_name)
            return obj

    def get(self, set_name, ref):
        objects = self.objects.get(set_name)
        return objects.get(ref) if objects is not None else None

    def update(self, set_name, ref, changes):
        with self.lock:
            obj = self.objects[set_name][ref]
            obj.update(changes)
            obj["DataVersion"] = self.next_data_version()
            self.touch(set_name)
            return obj

    def value(self, set_name, obj, prop):
        value = obj.get(prop)
        return self.schema[set_name].default(prop) if value is None else value

    def add_info_row(self, set_name, row):
        with self.lock:
            self.info_rows[set_name].append(row)
            self.touch(set_name)

    def replace_info_rows(self, set_name, predicate, new_rows):
        with self.lock:
            kept = [r for r in self.info_rows[set_name] if not predicate(r)]
            self.info_rows[set_name] = kept + list(new_rows)
            self.touch(set_name)

    # ------------------------------------------------------------ register movements

    def write_movements(self, register, recorder_set, recorder_ref, rows):
        """Replace the record set of one recorder (rows get Recorder, LineNumber, Active)."""
        with self.lock:
            full = []
            for i, row in enumerate(rows, 1):
                full.append({
                    "Recorder": recorder_ref, "Recorder_Type": composite_type(recorder_set),
                    "LineNumber": str(i), "Active": True, **row,
                })
            self._unindex_deals(register, recorder_ref)
            if full:
                self.movements[register][recorder_ref] = full
                for row in full:
                    self.by_deal[register][deal_of(row)].add(recorder_ref)
                self.recorder_types[register][recorder_ref] = recorder_set
            else:
                self.movements[register].pop(recorder_ref, None)
                self.recorder_types[register].pop(recorder_ref, None)
            self.touch(register)

    def _unindex_deals(self, register, recorder_ref):
        for row in self.movements[register].get(recorder_ref, ()):
            self.by_deal[register][deal_of(row)].discard(recorder_ref)

    def deal_rows(self, register, deal_ref):
        """Register rows whose Сделка (or ЗаказПокупателя) is deal_ref."""
        rows = []
        for recorder in self.by_deal[register].get(deal_ref, ()):
            rows.extend(r for r in self.movements[register][recorder] if deal_of(r) == deal_ref)
        return rows

    def clear_movements(self, recorder_ref):
        with self.lock:
            for register in self.movements:
                if recorder_ref in self.movements[register]:
                    self.write_movements(register, "", recorder_ref, [])

    # ------------------------------------------------------------ rows of any entity set

    def rows(self, set_name):
        """The rows of an entity set as a list (cached until the set changes)."""
        es = self.schema[set_name]
        source = es.parent if es.kind in ("tabular", "record_type") else set_name
        gen = self.generation[source]
        cached = self._cache.get(set_name)
        if cached and cached[0] == gen:
            return cached[1]
        with self.lock:
            rows = self._build_rows(es)
            self._cache[set_name] = (gen, rows, {})
        return rows

    def _build_rows(self, es):
        if es.kind in ("catalog", "document"):
            return list(self.objects[es.name].values())
        if es.kind == "info_register":
            return list(self.info_rows[es.name])
        if es.kind == "tabular":
            ts_name = es.name[len(es.parent) + 1:]
            rows = []
            for ref, obj in self.objects[es.parent].items():
                rows.extend(table_rows(ref, obj.get(ts_name) or []))
            return rows
        if es.kind == "record_type":
            return [row for rec_rows in self.movements[es.parent].values() for row in rec_rows]
        return [  # recordset
            {"Recorder": ref, "Recorder_Type": rec_rows[0]["Recorder_Type"], "RecordSet": rec_rows}
            for ref, rec_rows in self.movements[es.name].items()
        ]

    def index(self, set_name, prop, rows):
        """value (lower-cased if a string) -> positions in rows; cached while rows is the current list."""
        entry = self._cache.get(set_name)
        cache = entry[2] if entry is not None and entry[1] is rows else {}
        idx = cache.get(prop)
        if idx is None:
            default = self.schema[set_name].default(prop)
            idx = defaultdict(list)
            for pos, row in enumerate(rows):
                value = row.get(prop, default)
                idx[value.lower() if isinstance(value, str) else value].append(pos)
            cache[prop] = idx
        return idx

    def find_by_ref(self, ref):
        """(set name, object) for a ref in any catalog/document set, or (None, None)."""
        for set_name, objects in self.objects.items():
            if ref in objects:
                return set_name, objects[ref]
        return None, None


def deal_of(row):
    return row.get("Сделка") or row.get("ЗаказПокупателя_Key") or row.get("Номенклатура_Key")


def table_rows(owner_ref, rows):
    return [{**row, "Ref_Key": owner_ref, "LineNumber": str(i)} for i, row in enumerate(rows, 1)]


def is_empty_ref(value):
    return not value or value == EMPTY_REF
