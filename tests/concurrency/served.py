"""The app as a separate server process sees it (gunicorn's factory). No tests here.

``gunicorn 'tests.concurrency.served:create_served_app()'`` with the settings in the
``SURVEYAPP_TEST_CONFIG`` environment variable (JSON), so the workers use the test database.
"""

from __future__ import annotations

import json
import os

from flask import Flask

from surveyapp import create_app


def create_served_app() -> Flask:
    return create_app(json.loads(os.environ["SURVEYAPP_TEST_CONFIG"]))
