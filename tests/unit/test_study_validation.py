"""Study file validation: every problem as file:line:column, with what would be right."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from surveyapp.catalog import load_catalog
from surveyapp.config import PROJECT_ROOT
from surveyapp.study.loader import load_study
from surveyapp.yamlsource import SourceError

SHIPPED = PROJECT_ROOT / "questionnaires" / "in_harmony.study.yaml"

GOOD = """\
id: trial
title: {en: "A trial"}
arms:
  - {id: music, label: {en: "Music"}}
  - {id: control, label: {en: "Control"}}
waves:
  - id: baseline
    label: {en: "Baseline"}
    opens: 2026-09-01
    closes: 2026-12-18
    questionnaire: ih_pupil
allocation:
  method: randomised
  level: class
  seed: "trial-2026"
  block_size: 4
  strata: [school, year_group]
  ratio: {music: 1, control: 1}
anonymisation:
  k: 5
  time_resolution: term
"""


def problems(text: str) -> list[str]:
    with pytest.raises(SourceError) as info:
        load_study("study.yaml", textwrap.dedent(text))
    return [str(p) for p in info.value.problems]


def test_shipped_study_loads_with_the_in_harmony_design():
    design = load_study(SHIPPED)
    assert design.id == "in_harmony"
    assert design.arm_ids() == ["in_harmony", "comparison"]
    assert design.wave_ids() == ["baseline", "followup_1"]
    assert {w.questionnaire for w in design.waves} == {"ih_pupil"}
    assert design.allocation.method == "by_school"
    assert design.anonymisation.k == 5
    assert design.anonymisation.time_resolution == "term"
    assert design.provision_questionnaire == "ih_provision"


def test_shipped_study_passes_the_catalog_cross_check():
    catalog = load_catalog(PROJECT_ROOT / "questionnaires", SHIPPED)
    for wave in catalog.study.waves:
        assert catalog.questionnaires[wave.questionnaire].audience == "pupil"
    assert catalog.questionnaires[catalog.study.provision_questionnaire].audience == "school"


def test_good_randomised_design_loads():
    design = load_study("study.yaml", GOOD)
    assert design.allocation.randomised
    assert design.allocation.weights(design.arm_ids()) == {"music": 1, "control": 1}
    # Positions are kept for cross-file checks.
    assert design.position(("waves", 0, "questionnaire")) == (11, 5)


def test_unknown_key_points_at_its_line():
    text = GOOD.replace(
        "    closes: 2026-12-18\n", "    closes: 2026-12-18\n    clsoes: 2027-01-01\n"
    )
    assert problems(text) == [
        "study.yaml:11:5: unknown key 'clsoes' (remove it or check its spelling)"
    ]


def test_duplicate_arm_and_wave_ids():
    text = GOOD.replace(
        '  - {id: control, label: {en: "Control"}}\n',
        '  - {id: control, label: {en: "Control"}}\n  - {id: music, label: {en: "Again"}}\n',
    ).replace(
        "allocation:\n",
        '  - {id: baseline, label: {en: "Again"}, questionnaire: ih_pupil}\nallocation:\n',
    )
    text = text.replace("ratio: {music: 1, control: 1}", "ratio: {music: 1, control: 1}")
    found = problems(text)
    assert "study.yaml:6:6: duplicate arm id 'music' (every arm needs its own id)" in found
    assert "study.yaml:13:6: duplicate wave id 'baseline' (every wave needs its own id)" in found


def test_wave_closing_before_it_opens():
    text = GOOD.replace("closes: 2026-12-18", "closes: 2026-08-01")
    assert problems(text) == [
        "study.yaml:10:5: wave 'baseline' closes (2026-08-01) before it opens (2026-09-01) "
        "(the closing date must be on or after the opening date)"
    ]


def test_invalid_date_is_reported_at_its_key():
    found = problems(GOOD.replace("closes: 2026-12-18", "closes: 2026-13-45"))
    assert found == [
        "study.yaml:10:13: '2026-13-45' is not a valid date (write dates as YYYY-MM-DD, e.g. 2026-09-01)"
    ]
    found = problems(GOOD.replace("closes: 2026-12-18", 'closes: "soon"'))
    assert len(found) == 1 and found[0].startswith("study.yaml:10:5: 'closes'")


def test_ratio_naming_an_unknown_arm_and_missing_an_arm():
    found = problems(GOOD.replace("ratio: {music: 1, control: 1}", "ratio: {music: 1, contrl: 1}"))
    assert "study.yaml:18:21: ratio names unknown arm 'contrl' (one of: music, control)" in found
    assert any("ratio does not give arm 'control'" in p for p in found)


def test_ratio_that_does_not_fit_the_block():
    found = problems(GOOD.replace("ratio: {music: 1, control: 1}", "ratio: {music: 2, control: 1}"))
    assert found == [
        "study.yaml:16:3: block_size 4 cannot be split between the arms in the ratio "
        "(use a multiple of 3)"
    ]


def test_strata_naming_unknown_fields():
    found = problems(GOOD.replace("strata: [school, year_group]", "strata: [school, gender]"))
    assert found == [
        "study.yaml:17:20: unknown stratum field 'gender' for allocation by class "
        "(one of: school, stratum, year_group)"
    ]


def test_a_unit_cannot_be_stratified_by_itself():
    text = GOOD.replace("level: class", "level: school")
    found = problems(text)
    assert any("unknown stratum field 'school' for allocation by school" in p for p in found)


def test_randomised_without_a_seed():
    found = problems(GOOD.replace('  seed: "trial-2026"\n', ""))
    assert found == [
        "study.yaml:13:3: randomised allocation needs a 'seed' "
        "(add e.g. 'seed: \"ih-2026\"' so the allocation can be reproduced)"
    ]


def test_numeric_seed_is_read_as_text():
    design = load_study("study.yaml", GOOD.replace('seed: "trial-2026"', "seed: 20260901"))
    assert design.allocation.seed == "20260901"


def test_k_below_two_and_block_below_two():
    text = GOOD.replace("k: 5", "k: 1").replace("block_size: 4", "block_size: 1")
    found = problems(text)
    assert (
        "study.yaml:20:3: k must be at least 2 (got 1) (k is the smallest group an export may show; 5 is usual)"
        in found
    )
    assert any(p.startswith("study.yaml:16:3: block_size must be at least 2") for p in found)


def test_by_school_with_randomisation_keys_is_refused():
    text = GOOD.replace("method: randomised", "method: by_school")
    found = problems(text)
    assert any(p.startswith("study.yaml:14:3: 'level' is only used by randomised") for p in found)
    assert any(p.startswith("study.yaml:15:3: 'seed' is only used by randomised") for p in found)


def test_every_problem_is_reported_not_just_the_first():
    text = (
        GOOD.replace("closes: 2026-12-18", "closes: 2026-08-01")
        .replace('  seed: "trial-2026"\n', "")
        .replace("k: 5", "k: 0")
    )
    assert len(problems(text)) == 3


def _catalog_with(tmp_path: Path, study_text: str, provision_audience: str | None = None):
    folder = tmp_path / "q"
    folder.mkdir()
    for name in ("ih_pupil.yaml",):
        (folder / name).write_text((PROJECT_ROOT / "questionnaires" / name).read_text())
    if provision_audience:
        (folder / "ret.yaml").write_text(
            textwrap.dedent(
                f"""\
                id: ret
                title: {{en: "Return"}}
                audience: {provision_audience}
                languages: [en]
                pages:
                  - id: p1
                    questions:
                      - {{id: hours, type: number, text: {{en: "Hours"}}, min: 0, max: 40}}
                """
            )
        )
    study = tmp_path / "s.study.yaml"
    study.write_text(study_text)
    return load_catalog(folder, study), study


def test_wave_naming_a_missing_questionnaire_points_at_the_wave(tmp_path):
    with pytest.raises(SourceError) as info:
        _catalog_with(tmp_path, GOOD.replace("questionnaire: ih_pupil", "questionnaire: ih_pupl"))
    [problem] = info.value.problems
    assert (problem.line, problem.column) == (11, 5)
    assert problem.message == "unknown questionnaire 'ih_pupl'"
    assert "ih_pupil" in problem.hint


def test_provision_questionnaire_must_be_for_schools(tmp_path):
    text = GOOD + "provision_questionnaire: ret\n"
    catalog, _ = _catalog_with(tmp_path, text, provision_audience="school")
    assert catalog.study.provision_questionnaire == "ret"
    (tmp_path / "b").mkdir()
    with pytest.raises(SourceError) as info:
        _catalog_with(tmp_path / "b", text, provision_audience="pupil")
    [problem] = info.value.problems
    assert problem.line == 22
    assert problem.message == "questionnaire 'ret' is for audience 'pupil'"
