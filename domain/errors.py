"""Domain errors. Each has a stable code; adapters map them to GraphQL error types and to
each REST family's envelope."""

from __future__ import annotations

import enum


class ErrorCode(enum.StrEnum):
    VALIDATION = "VALIDATION"
    NOT_FOUND = "NOT_FOUND"
    RATE_LIMITED = "RATE_LIMITED"
    META_API = "META_API"
    REAUTHORIZATION_REQUIRED = "REAUTHORIZATION_REQUIRED"
    CONFLICT = "CONFLICT"
    UNAUTHENTICATED = "UNAUTHENTICATED"


class DomainError(Exception):
    code: ErrorCode = ErrorCode.VALIDATION

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInputError(DomainError):
    """Bad input, naming the field (REST answers 400, GraphQL a ValidationError)."""

    code = ErrorCode.VALIDATION

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class NotFoundError(DomainError):
    """Missing, or belonging to another organization: the same answer for both."""

    code = ErrorCode.NOT_FOUND

    def __init__(self, kind: str) -> None:
        super().__init__(f"{kind} not found")
        self.kind = kind


class ConflictError(DomainError):
    code = ErrorCode.CONFLICT


class RateLimitedError(DomainError):
    """A limit of metasync's own (e.g. one full sync per 5 minutes per Page)."""

    code = ErrorCode.RATE_LIMITED

    def __init__(self, message: str, retry_after_seconds: float) -> None:
        super().__init__(message)
        self.retry_after_seconds = max(1, int(retry_after_seconds + 0.999))
