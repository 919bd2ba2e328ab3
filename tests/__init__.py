"""The xlbatch test suite."""
