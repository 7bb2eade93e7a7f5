"""Pure shop rules: no Qt, no SQL, no I/O. Everything here is unit-testable in microseconds."""
