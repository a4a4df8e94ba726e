"""The codebook: what every column means and how the export changed it.

Written as a table (CSV and an Excel sheet), as readable HTML, and as a Frictionless
``datapackage.json`` describing the CSV so ``frictionless validate`` can check the data
against its declared types and codes.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .anonymise import ProtectionReport
from .missing import MISSING_LABELS, SUPPRESSED_TEXT
from .variables import CODE, NUMBER, OPTION, SCORE, TEXT, Variable


@dataclass
class Codebook:
    title: str
    language: str
    languages: list[str]
    variables: list[Variable]
    alphas: pd.DataFrame  # construct, wave, alpha, complete_cases, items
    protection: ProtectionReport
    options: dict
    rows: int
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # The provision returns' own section (provision.csv), when the export has them.
    provision_variables: list[Variable] = field(default_factory=list)
    provision_rows: int = 0
    provision_notes: list[str] = field(default_factory=list)

    def table(self) -> pd.DataFrame:
        """One row per variable of the pupil data."""
        return self._table(self.variables, "pupils")

    def provision_table(self) -> pd.DataFrame:
        """One row per variable of the provision returns."""
        return self._table(self.provision_variables, "provision")

    def full_table(self) -> pd.DataFrame:
        """Every variable of every file (the ``dataset`` column says which)."""
        tables = [self.table()]
        if self.provision_variables:
            tables.append(self.provision_table())
        return pd.concat(tables, ignore_index=True)

    def _table(self, variables: Sequence[Variable], dataset: str) -> pd.DataFrame:
        records = []
        for v in variables:
            record = {
                "dataset": dataset,
                "name": v.name,
                "label": v.label_in(self.language),
                "kind": v.kind,
                "question_type": v.question_type,
                "question_id": v.question_id or "",
                "storage": v.storage,
                "measure": v.measure,
                "value_labels": "; ".join(
                    f"{code} = {text}" for code, text in v.value_labels_in(self.language).items()
                ),
                "missing_codes": "; ".join(f"{c} = {t}" for c, t in MISSING_LABELS.items())
                if v.has_missing_codes
                else "",
                "construct": ", ".join(v.constructs),
                "reverse": ", ".join(v.reverse_in),
                "identifying": v.identifying or "",
                "show_if": v.show_if or "",
                "transformation": "; ".join(v.transforms),
            }
            for lang in self.languages:
                record[f"text_{lang}"] = v.text.get(lang, "")
            records.append(record)
        return pd.DataFrame.from_records(records)

    def alpha_table(self) -> pd.DataFrame:
        return self.alphas

    # ------------------------------------------------------------------ writers

    def write_csv(self, path: Path, bom: bool = False) -> Path:
        self.full_table().to_csv(path, index=False, encoding="utf-8-sig" if bom else "utf-8")
        return path

    def write_alpha_csv(self, path: Path, bom: bool = False) -> Path:
        self.alphas.to_csv(path, index=False, encoding="utf-8-sig" if bom else "utf-8")
        return path

    def write_html(self, path: Path) -> Path:
        path.write_text(self.html(), encoding="utf-8")
        return path

    def html(self) -> str:
        e = html.escape
        variables = _html_table(self.table().drop(columns="dataset"))
        provision = ""
        if self.provision_variables:
            notes = "".join(f"<li>{e(n)}</li>" for n in self.provision_notes)
            provision = (
                "<h2>Provision returns (provision files)</h2>"
                f"<p>{self.provision_rows} rows.</p><ul>{notes}</ul>"
                + _html_table(self.provision_table().drop(columns="dataset"))
            )
        alpha_rows = "\n".join(
            f'<tr><th scope="row">{e(str(r.construct))}</th><td>{e(str(r.wave))}</td>'
            f"<td>{'' if pd.isna(r.alpha) else f'{r.alpha:.3f}'}</td>"
            f"<td>{r.complete_cases}</td><td>{e(str(r.items))}</td></tr>"
            for r in self.alphas.itertuples(index=False)
        )
        options = "".join(
            f'<tr><th scope="row">{e(str(k))}</th><td>{e(json.dumps(v))}</td></tr>'
            for k, v in self.options.items()
        )
        warnings = "".join(
            f'<p class="warning"><strong>Warning:</strong> {e(w)}</p>' for w in self.warnings
        )
        notes = "".join(f"<li>{e(n)}</li>" for n in self.notes)
        missing = "".join(f"<li><code>{c}</code>: {e(t)}</li>" for c, t in MISSING_LABELS.items())
        return f"""<!doctype html>
<html lang="{e(self.language)}">
<head><meta charset="utf-8"><title>Codebook: {e(self.title)}</title>
<style>body{{font-family:sans-serif;margin:1rem}}table{{border-collapse:collapse}}
th,td{{border:1px solid #999;padding:.25rem .5rem;text-align:left;vertical-align:top}}
.warning{{background:#fff3cd;border:2px solid #8a6d00;padding:.5rem}}</style></head>
<body>
<h1>Codebook: {e(self.title)}</h1>
{warnings}
<p>{self.rows} rows. {e(self.protection.summary())}.</p>
<h2>Missing-value codes</h2>
<ul>{missing}<li>blank: not answered (system missing)</li>
<li><code>{SUPPRESSED_TEXT}</code> in school, class or language: withheld (small-cell protection)</li></ul>
<h2>Notes</h2><ul>{notes}</ul>
<h2>Variables</h2>
{variables}
{provision}
<h2>Internal consistency (Cronbach's alpha per construct and wave)</h2>
<table><thead><tr><th scope="col">construct</th><th scope="col">wave</th><th scope="col">alpha</th>
<th scope="col">complete cases</th><th scope="col">items</th></tr></thead><tbody>
{alpha_rows}
</tbody></table>
<h2>Export options</h2>
<table><tbody>{options}</tbody></table>
</body></html>
"""

    def datapackage(
        self, data_path: str, encoding: str, name: str, provision_path: str | None = None
    ) -> dict:
        """A Frictionless data package describing the wide CSV (and the provision CSV)."""
        resources = [self._resource("data", data_path, encoding, self.variables)]
        if provision_path and self.provision_variables:
            resources.append(
                self._resource("provision", provision_path, encoding, self.provision_variables)
            )
        return {
            "name": name,
            "title": self.title,
            "profile": "tabular-data-package",
            "resources": resources,
        }

    def _resource(self, name: str, path: str, encoding: str, variables: Sequence[Variable]) -> dict:
        fields = []
        for v in variables:
            spec: dict = {
                "name": v.name,
                "title": v.label_in(self.language),
                "type": _frictionless_type(v),
            }
            description = "; ".join(v.transforms)
            if description:
                spec["description"] = description
            if v.kind in (CODE, OPTION):
                codes = sorted(v.value_labels) + sorted(MISSING_LABELS)
                spec["constraints"] = {"enum": codes}
            fields.append(spec)
        return {
            "name": name,
            "path": path,
            "profile": "tabular-data-resource",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": encoding,
            "schema": {"fields": fields, "missingValues": [""]},
        }

    def write_datapackage(
        self,
        path: Path,
        data_path: str,
        encoding: str,
        name: str,
        provision_path: str | None = None,
    ) -> Path:
        package = self.datapackage(data_path, encoding, name, provision_path)
        path.write_text(json.dumps(package, indent=2, ensure_ascii=False), encoding="utf-8")
        return path


def _html_table(table: pd.DataFrame) -> str:
    e = html.escape
    head = "".join(f'<th scope="col">{e(str(c))}</th>' for c in table.columns)
    body = "\n".join(
        "<tr>"
        + "".join(
            (f'<th scope="row">{e(str(x))}</th>' if i == 0 else f"<td>{e(str(x))}</td>")
            for i, x in enumerate(row)
        )
        + "</tr>"
        for row in table.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>"


def _frictionless_type(v: Variable) -> str:
    if v.kind in (CODE, OPTION):
        return "integer"
    if v.kind == NUMBER:
        return "integer" if v.storage == "integer" else "number"
    if v.kind == SCORE:
        return "number"
    if v.kind == TEXT:
        return "string"
    return "integer" if v.storage == "integer" else "string"


def alpha_frame(rows: Sequence[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["construct", "wave", "alpha", "complete_cases", "items"])
