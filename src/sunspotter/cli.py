"""The ``sunspotter`` command."""

from __future__ import annotations

import argparse
import sys

from sunspotter.config import load_params


def _promote(args) -> int:
    from sunspotter.registry import RegistryError, promote

    names = load_params(args.params).register
    name = {"classifier": names.classifier, "localizer": names.localizer}.get(args.model, args.model)
    try:
        version = promote(name, args.version)
    except RegistryError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"{name}: @champion -> version {version}")
    return 0


def _gallery(args) -> int:
    from sunspotter.gallery import write_gallery
    from sunspotter.pspt import PSPTFileError

    try:
        print(write_gallery(args.raw_dir, args.output, args.filter, args.n))
    except PSPTFileError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sunspotter", description="Sunspot detection in full-disk solar images.")
    commands = parser.add_subparsers(dest="command", required=True)
    promote = commands.add_parser("promote", help="move a registered model's @champion alias to its @challenger")
    promote.add_argument("model", help="'classifier', 'localizer', or a registered model name")
    promote.add_argument("--version", type=int, help="promote this version instead of the @challenger")
    promote.add_argument("--params", default="params.yaml", help="params file naming the registered models")
    promote.set_defaults(func=_promote)
    gallery = commands.add_parser("gallery", help="PNG of raw observations with their masks and a spot close-up")
    gallery.add_argument("raw_dir", nargs="?", default="data/raw", help="folder of PSPT image/mask pairs")
    gallery.add_argument("-o", "--output", default="reports/acquire/gallery.png")
    gallery.add_argument("--filter", default="R", choices=["R", "K"], help="image filter to show")
    gallery.add_argument("-n", type=int, default=4, help="how many observations")
    gallery.set_defaults(func=_gallery)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
