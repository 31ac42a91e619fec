"""The use cases: one function per user-visible action, shared by the CLI, the API, the web pages and Celery tasks.

Each module holds one family (`mentions`, `contacts`, `leads`, `routing`, `metrics`, `sweeps`, `gdpr`,
`tokens`, `sessions`). A
service function takes what it needs (an engine or the runtime, and the `Caller`), checks the caller's role
and scope, writes the audit record itself, and returns a plain result. What went wrong is raised as a
`ServiceError` (`Forbidden`, `NotFound`, `Conflict`), which each entry point translates: HTTP 403/404/409,
a page's error, a CLI message and exit code. Entry points only read input and present output.
"""

from overheard.services.access import Caller, Capability, Conflict, Forbidden, NotFound, ServiceError

__all__ = ["Caller", "Capability", "Conflict", "Forbidden", "NotFound", "ServiceError"]
