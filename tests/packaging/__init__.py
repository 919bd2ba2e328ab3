"""Tests of the packaging: what build.spec bundles, the frozen entry points, the installer script."""
