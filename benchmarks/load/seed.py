"""``python -m benchmarks.load.seed PUPILS OUT.json``: seed the database named by DATABASE_URL.

Creates the study, its open first wave, schools, classes of 30 and PUPILS cards with the
app's own services (see :mod:`benchmarks.load.world`) and writes the clear codes to OUT.json
(a list, class by class).
"""

from __future__ import annotations

import json
import sys

from surveyapp import create_app

from .world import make_world


def main(argv: list[str]) -> None:
    pupils, out = int(argv[0]), argv[1]
    app = create_app()
    with app.app_context():
        world = make_world(pupils)
    with open(out, "w") as handle:
        json.dump(world.codes, handle)


if __name__ == "__main__":
    main(sys.argv[1:])
