"""`python -m edgectl` is the same as the `edgectl` console script."""

from edgectl.cli import main

raise SystemExit(main())
