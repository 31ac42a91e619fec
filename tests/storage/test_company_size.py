"""A company's size from the CRM is kept and read back where lead scoring reads companies (SQLite, PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import Engine

from enrichers.model import Company, CompanyClass
from storage.contacts import SqlContactDirectory, save_company


def test_the_crms_employee_count_is_stored_and_read_back_by_the_directory(engine: Engine) -> None:
    with engine.begin() as connection:
        save_company(connection, Company(id="co-1", name="Oakridge Realty", domain="oakridge.example", employees=1400))
        save_company(connection, Company(id="co-2", name="Fernhill", classification=CompanyClass.prospect))
    with engine.connect() as connection:
        directory = SqlContactDirectory(connection)
        oakridge, fernhill = directory.company("co-1"), directory.company("co-2")
    assert oakridge is not None and oakridge.employees == 1400
    assert fernhill is not None and fernhill.employees is None
