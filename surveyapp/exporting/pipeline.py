"""The export as one pure function: input frames + questionnaires + options -> files.

``build_dataset`` makes the anonymised wide (and long) frame, the scores and the codebook;
``write_dataset`` writes the chosen formats to a folder (and a zip when asked). Both are
free of Flask and the database, so the CLI, the research UI, the tests and the benchmark all
run exactly the same code.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..questionnaire.model import Questionnaire
from ..questionnaire.scoring import construct_alpha, construct_item_codes, score_construct
from .anonymise import (
    ProtectionReport,
    combinations_ok,
    linked_combinations_ok,
    protect_linked,
    quasi_fields,
)
from .coarsen import fresh_key
from .codebook import Codebook, alpha_frame
from .frames import (
    answer_matrix,
    check_inputs,
    long_frame,
    mark_routing,
    meta_frame,
    order_responses,
)
from .options import ExportOptions, check_options
from .provision import NAME as PROVISION_NAME
from .provision import ProvisionInput, ProvisionTable, build_provision
from .variables import SCORE, TEXT, Variable, export_variables, languages_of
from .writers import (
    typed_frame,
    write_csv,
    write_dta,
    write_long,
    write_parquet,
    write_sav,
    write_zip,
)
from .xlsx import write_xlsx

SUFFIX = {"csv": ".csv", "xlsx": ".xlsx", "sav": ".sav", "dta": ".dta", "parquet": ".parquet"}

TIME_NOTES = {
    "date": "coarsened to the date (no time of day)",
    "week": "coarsened to the ISO week (e.g. 2026-W37)",
    "term": "coarsened to the school term (e.g. 2026-autumn: Sep-Dec, spring Jan-Mar, summer Apr-Aug)",
}


#: ``timer(step)`` is entered around each step of an export (the benchmark measures with it).
Timer = Callable[[str], AbstractContextManager[object]]


def no_timer(_step: str) -> AbstractContextManager[object]:
    return nullcontext()


@dataclass
class Dataset:
    name: str
    wide: pd.DataFrame
    variables: list[Variable]
    codebook: Codebook
    long: pd.DataFrame | None = None
    provision: ProvisionTable | None = None

    @property
    def protection(self) -> ProtectionReport:
        return self.codebook.protection


@dataclass
class ExportFiles:
    folder: Path
    files: list[Path] = field(default_factory=list)
    archive: Path | None = None

    def checksums(self) -> dict[str, str]:
        return {p.name: sha256_file(p) for p in self.all()}

    def all(self) -> list[Path]:
        return [*self.files, *([self.archive] if self.archive else [])]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _select(responses: pd.DataFrame, options: ExportOptions) -> pd.DataFrame:
    keep = np.ones(len(responses), dtype=bool)
    if options.waves:
        keep &= responses["wave"].isin(options.waves).to_numpy()
    if options.arms:
        keep &= responses["arm"].isin(options.arms).to_numpy()
    return responses.loc[keep]


def build_dataset(
    responses: pd.DataFrame,
    answers: pd.DataFrame,
    questionnaires: Sequence[Questionnaire],
    options: ExportOptions,
    pseudonym_key: str,
    name: str = "export",
    title: str = "",
    timer: Timer = no_timer,
    provision: ProvisionInput | None = None,
) -> Dataset:
    """The anonymised dataset and its codebook (and the provision returns' table, when
    ``provision`` is given). Pure: same inputs and key, same output."""
    check_options(options)
    check_inputs(responses, answers)
    responses = _select(responses, options)
    key = fresh_key() if options.unlinkable else pseudonym_key
    variables = export_variables(questionnaires, options.include_free_text)
    answer_vars = [v for v in variables if v.is_answer]

    with timer("frame"):
        meta = meta_frame(responses, key, options.time_resolution)
        order = order_responses(responses, meta["pseudonym"])
        responses = responses.loc[order]
        meta = meta.loc[order].reset_index(drop=True)
        response_ids = responses["response_id"].reset_index(drop=True)

        items = answer_matrix(response_ids, answers, answer_vars)
        mark_routing(items, response_ids, answers, answer_vars, questionnaires)

    # Scores and alphas from the raw item codes (missing codes are not valid codes).
    with timer("scores"):
        scores, alphas = _scores(items, meta["wave"], questionnaires, variables)
        wide = pd.concat([meta, items, scores], axis=1)

    # Small-cell protection on the released quasi-identifiers.
    question_columns: dict[str, list[str]] = {}
    for v in answer_vars:
        question_columns.setdefault(v.question_id, []).append(v.name)
        if v.answer_key != v.question_id:  # grid rows are variables in their own right
            question_columns.setdefault(v.answer_key, []).append(v.name)
    quasi_questions = list(
        dict.fromkeys(v.question_id for v in answer_vars if v.identifying == "quasi")
    )
    fields = quasi_fields(wide, question_columns, quasi_questions, options.quasi_identifiers)
    with timer("small-cell protection"):
        # Per pupil across the exported waves: the pseudonym links a pupil's rows.
        wide, report = protect_linked(wide, fields, options.k, person="pseudonym", wave="wave")
        released = [c for f in fields for c in f.columns]
        checks = (
            combinations_ok(wide, released, options.k, "wave"),
            linked_combinations_ok(wide, released, options.k, "pseudonym", "wave"),
        )
        if not all(checks):  # pragma: no cover - a bug guard
            raise RuntimeError("small-cell protection failed its own check; nothing was exported")

    _describe_transforms(variables, options, report, fields)
    warnings, notes = _notes(options, variables, report)
    languages = languages_of(questionnaires) or ["en"]
    table = None
    if provision is not None:
        with timer("provision returns"):
            table = build_provision(provision, languages, options.include_free_text)
        warnings += _provision_warnings(options, table)
    codebook = Codebook(
        title=title or name,
        language=options.language,
        languages=languages,
        variables=variables,
        alphas=alphas,
        protection=report,
        options=options.as_record(),
        rows=len(wide),
        notes=notes,
        warnings=warnings,
        provision_variables=table.variables if table is not None else [],
        provision_rows=len(table.frame) if table is not None else 0,
        provision_notes=table.notes if table is not None else [],
    )
    long = None
    if options.long_format:
        with timer("long frame"):
            long = long_frame(wide, answer_vars, options.language)
    return Dataset(
        name=name, wide=wide, variables=variables, codebook=codebook, long=long, provision=table
    )


def _provision_warnings(options: ExportOptions, table: ProvisionTable) -> list[str]:
    texts = [v.name for v in table.variables if v.kind == TEXT]
    if not (options.include_free_text and texts):
        return []
    return [
        "The provision returns include free text ("
        + ", ".join(texts)
        + "). School staff may have named pupils or colleagues: review it before sharing."
    ]


def _scores(
    items: pd.DataFrame,
    waves: pd.Series,
    questionnaires: Sequence[Questionnaire],
    variables: Sequence[Variable],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    wanted = [v.name for v in variables if v.kind == SCORE]
    scores: dict[str, pd.Series] = {}
    rows = []
    for questionnaire in questionnaires:
        for name, construct in questionnaire.constructs.items():
            column = f"{name}_score"
            if column in scores or column not in wanted:
                continue
            codes = construct_item_codes(questionnaire, construct)
            scores[column] = score_construct(items, construct, codes)
            for wave in pd.unique(waves):
                in_wave = (waves == wave).to_numpy()
                alpha, n = construct_alpha(items.loc[in_wave], construct, codes)
                rows.append(
                    {
                        "construct": name,
                        "wave": wave,
                        "alpha": None if np.isnan(alpha) else round(alpha, 4),
                        "complete_cases": n,
                        "items": ", ".join(construct.items),
                    }
                )
    frame = pd.DataFrame(scores, index=items.index) if scores else pd.DataFrame(index=items.index)
    return frame[[c for c in wanted if c in frame]], alpha_frame(rows)


def _describe_transforms(
    variables: Sequence[Variable], options: ExportOptions, report: ProtectionReport, fields
) -> None:
    by_name = {v.name: v for v in variables}
    link = (
        "random key for this export only: not linkable to any other export"
        if options.unlinkable
        else "study key: stable across waves and exports, so waves pair up"
    )
    by_name["pseudonym"].transforms.append(f"HMAC-SHA256 of the participant id ({link})")
    by_name["school"].transforms.append("school name replaced by its code")
    by_name["class"].transforms.append("class name replaced by its code")
    for column in ("started", "completed"):
        by_name[column].transforms.append(TIME_NOTES[options.time_resolution])
    by_name["duration_min"].transforms.append("whole minutes; blank for partial responses")
    for f in fields:
        for column in f.columns:
            var = by_name.get(column)
            if var is None:
                continue
            count = report.cells_suppressed.get(column, 0)
            var.transforms.append(
                f"quasi-identifier (k = {options.k}, per pupil across the exported waves): "
                f"{count} value(s) withheld"
                + (" (class generalised to school level)" if column == "class" else "")
            )


def _notes(
    options: ExportOptions, variables: Sequence[Variable], report: ProtectionReport
) -> tuple[list[str], list[str]]:
    warnings = []
    texts = [v.name for v in variables if v.kind == TEXT]
    if options.include_free_text and texts:
        warnings.append(
            "This export includes free-text answers ("
            + ", ".join(texts)
            + "). Pupils may have written names or other identifying details: review them "
            "before sharing."
        )
    notes = [
        "Access codes, user names, IP addresses, user agents and school or class names are "
        "never exported.",
        report.summary(),
        "Small-cell protection holds per pupil: a pupil's rows in the exported waves share one "
        "pseudonym, so the combination of their school, class, language and identifying "
        "answers in every wave, and the waves they took part in, is shared by at least k "
        "pupils, or withheld.",
        "Rows are ordered by wave, school, class and pseudonym, not by time of response.",
    ]
    if not options.include_free_text:
        notes.append("Free-text and directly identifying answers are left out.")
    return warnings, notes


def write_dataset(
    dataset: Dataset, folder: Path, options: ExportOptions, timer: Timer = no_timer
) -> ExportFiles:
    """Write the chosen formats, the codebook (HTML, CSV, alphas) and, with CSV, a
    Frictionless ``datapackage.json``; zip them together when ``options.zip``."""
    folder.mkdir(parents=True, exist_ok=True)
    base = dataset.name
    result = ExportFiles(folder=folder)
    wide, variables, language = dataset.wide, dataset.variables, options.language
    for fmt in options.formats:
        path = folder / f"{base}{SUFFIX[fmt]}"
        with timer(fmt):
            if fmt == "csv":
                write_csv(wide, variables, path, options.bom)
            elif fmt == "xlsx":
                sheets = {}
                if dataset.provision is not None:
                    provision = dataset.provision
                    sheets[PROVISION_NAME] = typed_frame(provision.frame, provision.variables)
                write_xlsx(wide, variables, dataset.codebook, path, sheets)
            elif fmt == "sav":
                write_sav(wide, variables, path, language)
            elif fmt == "dta":
                write_dta(wide, variables, path, language)
            elif fmt == "parquet":
                write_parquet(wide, variables, path, language)
        result.files.append(path)
    if dataset.provision is not None:
        with timer("provision files"):
            result.files += write_provision(dataset.provision, folder, options)
    if dataset.long is not None:
        with timer("long files"):
            result.files += write_long(
                dataset.long,
                folder / f"{base}_long.csv",
                folder / f"{base}_long.parquet" if "parquet" in options.formats else None,
                options.bom,
            )
    codebook = dataset.codebook
    with timer("codebook"):
        result.files.append(codebook.write_html(folder / "codebook.html"))
        result.files.append(codebook.write_csv(folder / "codebook.csv", options.bom))
        result.files.append(codebook.write_alpha_csv(folder / "constructs.csv", options.bom))
        if "csv" in options.formats:
            result.files.append(
                codebook.write_datapackage(
                    folder / "datapackage.json",
                    f"{base}.csv",
                    "utf-8-sig" if options.bom else "utf-8",
                    base.lower().replace("_", "-"),
                    f"{PROVISION_NAME}.csv" if dataset.provision is not None else None,
                )
            )
    if options.zip:
        with timer("zip"):
            result.archive = write_zip(result.files, folder / f"{base}.zip")
    return result


def write_provision(table: ProvisionTable, folder: Path, options: ExportOptions) -> list[Path]:
    """``provision.csv`` always (next to the codebook), and the provision table in each
    chosen format that holds a second table as a file of its own (SPSS, Stata, Parquet);
    Excel gets it as a sheet."""
    frame, variables, language = table.frame, table.variables, options.language
    files = [write_csv(frame, variables, folder / f"{PROVISION_NAME}.csv", options.bom)]
    writers = {"sav": write_sav, "dta": write_dta, "parquet": write_parquet}
    for fmt in options.formats:
        if fmt in writers:
            path = folder / f"{PROVISION_NAME}{SUFFIX[fmt]}"
            files.append(writers[fmt](frame, variables, path, language))
    return files


def run_export(
    responses: pd.DataFrame,
    answers: pd.DataFrame,
    questionnaires: Sequence[Questionnaire],
    options: ExportOptions,
    pseudonym_key: str,
    folder: Path,
    name: str = "export",
    title: str = "",
    timer: Timer = no_timer,
    provision: ProvisionInput | None = None,
) -> tuple[Dataset, ExportFiles]:
    dataset = build_dataset(
        responses, answers, questionnaires, options, pseudonym_key, name, title, timer, provision
    )
    return dataset, write_dataset(dataset, folder, options, timer)
