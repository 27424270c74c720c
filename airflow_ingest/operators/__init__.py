"""Airflow shells: templated fields, XCom references, mapping and branching around ``core`` and the hooks."""
