"""Fixtures every test folder may use. Fixture modules are plugins, so a test that moves with
the code it tests keeps its fixtures."""

pytest_plugins = ["tests.support.settings", "tests.unit.ingest.support"]
