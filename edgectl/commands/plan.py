"""`edgectl plan --site FILE --state FILE`: what would each car get? (SPEC §8)

Rules:
- a dry run: reads a site file and a JSON state file, runs one allocation
  cycle from a fresh allocator state, prints the result as JSON on stdout;
  nothing is written, no store or network is touched;
- output keys: `time`, then `connectors` (site order), then `zones` (parents
  before children), each as `edgectl.core.result` writes them (docs/plan.md);
- exit 0 on success; exit 2 with every problem in the input on stderr
  (file, entry, field named; never a traceback); exit 1 if the allocation
  itself fails (a bug: reported in one line, not a traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from edgectl import stationmodels
from edgectl.core.engine import allocate
from edgectl.core.topology import compile_site
from edgectl.sitefile import SiteFileError, load_site_file
from edgectl.sitefile.statefile import load_state_file


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--site", type=Path, required=True, help="site file (TOML, as for `edgectl site`)")
    parser.add_argument("--state", type=Path, required=True, help="state file (JSON): the site at one instant")


def main(args: argparse.Namespace) -> int:
    try:
        site = load_site_file(args.site)
        snapshot = load_state_file(args.state, site)
    except SiteFileError as exc:
        for message in exc.messages:
            print(message, file=sys.stderr)
        return 2
    try:
        topology = compile_site(site, stationmodels.catalogue())
        allocation, _state = allocate(topology, snapshot)
    except NotImplementedError:
        print("edgectl plan: the allocator is not available in this build", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug in the allocator: one line, not a traceback
        print(f"edgectl plan: the allocation failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(allocation.as_dict(), indent=2))
    return 0
