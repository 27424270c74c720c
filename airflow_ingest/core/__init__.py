"""The domain rules, pure Python: no Airflow import and no network, so they are fast to test and reuse."""
