"""Re-verification before a sensitive submission, bound to the exact form (issue #13; docs/reverify.md)."""
