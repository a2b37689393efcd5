"""The ``sunspotter`` command."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from sunspotter.config import MODEL_KINDS, ConfigError, load_params
from sunspotter.fulldisk.outputs import CATALOG_FORMATS
from sunspotter.version import VERSION


def _promote(args) -> int:
    from sunspotter.lifecycle.registry import RegistryError, promote
    from sunspotter.lifecycle.tracking import store_problem

    register = load_params(args.params).register
    names = {kind: getattr(register, kind) for kind in MODEL_KINDS}
    name = names.get(args.model, args.model)
    kind = next((kind for kind, registered in names.items() if registered == name), None)
    if kind is None:
        print(f"error: {name} is not one of the registered models {sorted(names.values())}", file=sys.stderr)
        return 1
    if store_problem():
        print(f"error: {store_problem()}", file=sys.stderr)
        return 1
    try:
        version = promote(name, register.gates.get(kind, {}), args.version, force_reason=args.force)
    except RegistryError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"{name}: @champion -> version {version}" + (f" (forced: {args.force})" if args.force else ""))
    return 0


def _gallery(args) -> int:
    from sunspotter.acquire.gallery import write_gallery
    from sunspotter.io.pspt import PSPTFileError

    try:
        print(write_gallery(args.raw_dir, args.output, args.filter, args.n))
    except PSPTFileError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


def _predict(args) -> int:
    from sunspotter.fulldisk.predict import predict_files
    from sunspotter.io import pspt
    from sunspotter.lifecycle.model_source import ModelNotFound, load
    from sunspotter.solar import dust_map

    try:
        source = load(args.model)
    except ModelNotFound as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"model: {source.describe()}")
    if args.dust_map:
        try:
            source.model.dust_map = None if str(args.dust_map) == "none" else dust_map.read(args.dust_map)
        except (pspt.PSPTFileError, OSError) as err:
            print(f"error: dust map: {err}", file=sys.stderr)
            return 1
    batch = predict_files(source.model, args.images, args.output, args.date, args.format, recursive=args.recursive,
                          skip_existing=args.skip_existing, model_name=source.describe())
    if len(batch.summary):
        print(batch.summary.to_string(index=False))
    for message in batch.errors.values():
        print(f"error: {message}", file=sys.stderr)
    total = len(batch.summary) + len(batch.errors) + len(batch.skipped)
    if total == 0:
        print(f"error: no images found in {', '.join(map(str, args.images))}", file=sys.stderr)
        return 1
    skipped = f", {len(batch.skipped)} skipped (made by this model already)" if batch.skipped else ""
    print(f"{len(batch.summary)} of {total} images done{skipped}; outputs in {args.output}")
    return 1 if batch.errors else 0


def _figures(args) -> int:
    from sunspotter.evaluation import figures

    try:
        print(f"{figures.write(args.root)}: figures block rewritten from {', '.join(figures.SOURCES)}")
    except (OSError, ValueError, KeyError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    # TensorFlow's C++ start-up lines (no GPU driver, CPU instructions) read as errors to a user; set
    # TF_CPP_MIN_LOG_LEVEL=0 to see them.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    parser = argparse.ArgumentParser(prog="sunspotter", description="Sunspot detection in full-disk solar images.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {VERSION}")
    commands = parser.add_subparsers(dest="command", required=True)
    promote = commands.add_parser("promote", help="move a registered model's @champion alias to its @challenger")
    promote.add_argument("model", help="'classifier', 'localizer', or a registered model name")
    promote.add_argument("--version", type=int, help="promote this version instead of the @challenger")
    promote.add_argument("--params", default="params.yaml", help="params file naming the models and their gates")
    promote.add_argument("--force", metavar="REASON", help="promote even if a gate or the champion says no; REASON is recorded")
    promote.set_defaults(func=_promote)
    gallery = commands.add_parser("gallery", help="PNG of raw observations with their masks and a spot close-up")
    gallery.add_argument("raw_dir", nargs="?", default="data/raw", help="folder of PSPT image/mask pairs")
    gallery.add_argument("-o", "--output", default="gallery.png", help="PNG to write (default: in this folder)")
    gallery.add_argument("--filter", default="R", choices=["R", "K"], help="image filter to show")
    gallery.add_argument("-n", type=int, default=4, help="how many observations")
    gallery.set_defaults(func=_gallery)
    predict = commands.add_parser("predict", help="sunspot mask, overlay and catalog of full-disk solar images")
    predict.add_argument("images", nargs="+", type=Path,
                         help="images (FITS, .fits.fz, JPEG2000, PNG, JPG) or folders of them")
    predict.add_argument("-r", "--recursive", action="store_true", help="search folders' subfolders too")
    predict.add_argument("-m", "--model",
                         help="registry URI (models:/NAME@ALIAS) or a saved full-disk model folder; default: "
                              "@champion, else @challenger, else the pipeline's models/full_disk_localizer")
    predict.add_argument("-o", "--output", type=Path, default=Path("predictions"), help="folder for the outputs")
    predict.add_argument("--skip-existing", action="store_true",
                         help="skip an image whose outputs this same model already made (its mask's provenance)")
    predict.add_argument("--date", help="observation date (ISO) of pictures without metadata; default: yearly mean")
    predict.add_argument("--format", default="csv", choices=CATALOG_FORMATS,
                         help="catalog file format (ecsv keeps the units)")
    predict.add_argument("--dust-map", type=Path,
                         help="dust map FITS of the images' detector, or 'none'; default: the one the model carries")
    predict.set_defaults(func=_predict)
    figures = commands.add_parser("figures", help="rewrite README.md's table of pipeline figures from metrics/")
    figures.add_argument("--root", type=Path, default=Path("."), help="the repository, after `dvc repro`")
    figures.set_defaults(func=_figures)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
