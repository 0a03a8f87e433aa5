"""Regenerate the demo's images and metadata (a developer tool, not used at run time).

    .venv/bin/python assets/demo/make_demo_assets.py

Copies a few public-domain / CC0 photos from scikit-image's sample data
(downscaled to at most 512 px; provenance in assets/README.md), draws simple
synthetic pictures with Pillow, and writes ``demo-synthetic.csv``: captions
that trip the 2021 LAION-400M audit's substring keyword filter in innocent ways,
beside benign and borderline ones, with NSFW tags and punsafe values chosen so
the filter-precision story is visible. Everything is synthetic and safe.
"""

from __future__ import annotations

import csv
from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
IMAGES = HERE / "images"
SKIMAGE = (
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "horse",
    "coins",
    "hubble_deep_field",
    "immunohistochemistry",
)


def copy_skimage() -> None:
    import numpy as np
    import skimage.data as data

    for name in SKIMAGE:
        array = getattr(data, name)()
        if array.dtype == bool:
            array = (~array * 255).astype(np.uint8)
        img = Image.fromarray(array).convert("RGB")
        img.thumbnail((512, 512))
        img.save(IMAGES / f"{name}.jpg", quality=85)


def gradient(name: str, top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Image.Image:
    img = Image.new("RGB", (384, 256))
    draw = ImageDraw.Draw(img)
    for y in range(256):
        t = y / 255
        draw.line(
            [(0, y), (383, y)],
            fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)),
        )
    return img


def draw_all() -> None:
    sea = gradient("coast", (150, 190, 230), (40, 90, 140))
    ImageDraw.Draw(sea).rectangle([0, 200, 383, 255], fill=(210, 190, 140))
    sea.save(IMAGES / "coast.jpg", quality=85)

    downs = gradient("downs", (170, 210, 240), (240, 240, 220))
    d = ImageDraw.Draw(downs)
    d.polygon(
        [(0, 256), (0, 150), (120, 110), (260, 160), (383, 120), (383, 256)], fill=(90, 150, 70)
    )
    downs.save(IMAGES / "downs.jpg", quality=85)

    field = gradient("field", (160, 200, 240), (200, 220, 240))
    ImageDraw.Draw(field).rectangle([0, 130, 383, 255], fill=(235, 210, 40))
    field.save(IMAGES / "yellow_field.jpg", quality=85)

    shirt = Image.new("RGB", (320, 320), (235, 235, 235))
    d = ImageDraw.Draw(shirt)
    d.polygon(
        [
            (100, 60),
            (140, 50),
            (180, 50),
            (220, 60),
            (280, 110),
            (250, 140),
            (225, 120),
            (225, 280),
            (95, 280),
            (95, 120),
            (70, 140),
            (40, 110),
        ],
        fill=(250, 250, 250),
        outline=(120, 120, 120),
    )
    d.text((135, 150), "XXL", fill=(60, 60, 60))
    shirt.save(IMAGES / "tshirt.png")

    balloon = gradient("sky", (120, 170, 230), (220, 235, 250))
    d = ImageDraw.Draw(balloon)
    d.ellipse([140, 30, 240, 150], fill=(230, 80, 60))
    d.rectangle([175, 170, 205, 195], fill=(120, 80, 40))
    d.line([(150, 130), (178, 170)], fill=(60, 60, 60))
    d.line([(230, 130), (202, 170)], fill=(60, 60, 60))
    balloon.save(IMAGES / "balloon.jpg", quality=85)

    sextant = Image.new("RGB", (320, 320), (30, 40, 70))
    d = ImageDraw.Draw(sextant)
    d.pieslice([40, 40, 280, 280], 200, 340, fill=(200, 160, 60))
    d.line([(160, 160), (260, 90)], fill=(230, 230, 230), width=4)
    sextant.save(IMAGES / "sextant.png")

    classroom = Image.new("RGB", (384, 256), (250, 245, 230))
    d = ImageDraw.Draw(classroom)
    d.rectangle([40, 30, 344, 150], fill=(40, 80, 60))
    d.text((60, 60), "Evening classes: 2 + 2 = 4", fill=(240, 240, 240))
    for x in range(50, 350, 60):
        d.rectangle([x, 190, x + 40, 230], fill=(150, 100, 60))
    classroom.save(IMAGES / "classroom.png")

    gulls = gradient("gulls", (180, 200, 220), (90, 110, 130))
    d = ImageDraw.Draw(gulls)
    for x, y in [(80, 80), (200, 60), (280, 120)]:
        d.arc([x, y, x + 40, y + 20], 180, 360, fill=(250, 250, 250), width=3)
        d.arc([x + 40, y, x + 80, y + 20], 180, 360, fill=(250, 250, 250), width=3)
    gulls.save(IMAGES / "gulls.jpg", quality=85)

    sauce = Image.new("RGB", (256, 320), (245, 240, 230))
    d = ImageDraw.Draw(sauce)
    d.rectangle([100, 120, 156, 300], fill=(200, 30, 20))
    d.rectangle([115, 60, 141, 120], fill=(200, 30, 20))
    d.rectangle([112, 40, 144, 60], fill=(30, 120, 40))
    sauce.save(IMAGES / "sauce.png")

    harbour = gradient("harbour", (250, 200, 150), (60, 90, 150))
    d = ImageDraw.Draw(harbour)
    for x in (60, 160, 260):
        d.polygon([(x, 200), (x + 60, 200), (x + 50, 220), (x + 10, 220)], fill=(120, 60, 30))
        d.line([(x + 30, 200), (x + 30, 140)], fill=(60, 40, 20), width=2)
    harbour.save(IMAGES / "harbour.jpg", quality=85)

    stripes = Image.new("RGB", (384, 256), (255, 255, 255))
    d = ImageDraw.Draw(stripes)
    for i, colour in enumerate([(230, 90, 90), (240, 180, 60), (90, 170, 220), (110, 190, 110)]):
        d.rectangle([i * 96, 0, i * 96 + 95, 255], fill=colour)
    stripes.save(IMAGES / "swatches.png")

    crowd = gradient("crowd", (200, 200, 210), (90, 90, 100))
    d = ImageDraw.Draw(crowd)
    for i in range(40):
        x, y = 10 + (i * 37) % 370, 120 + (i * 53) % 110
        d.ellipse([x, y, x + 18, y + 18], fill=(60 + i * 4 % 120, 50, 60))
    crowd.save(IMAGES / "crowd.jpg", quality=85)

    statue = Image.new("RGB", (256, 384), (60, 60, 70))
    d = ImageDraw.Draw(statue)
    d.rectangle([88, 300, 168, 370], fill=(220, 220, 215))
    d.ellipse([108, 60, 148, 100], fill=(230, 230, 225))
    d.rectangle([103, 100, 153, 300], fill=(230, 230, 225))
    statue.save(IMAGES / "statue.png")

    good = IMAGES / "coast.jpg"
    (IMAGES / "broken.jpg").write_bytes(good.read_bytes()[:700])  # a truncated JPEG on purpose


# (key, caption, nsfw tag, punsafe, note). Keys name the image files without extension.
ROWS: list[tuple[str, str, str, float, str]] = [
    (
        "coast",
        "Essex coastline at low tide, synthetic demo caption",
        "UNLIKELY",
        0.03,
        "keyword 'sex' inside Essex",
    ),
    ("downs", "Sussex downs in spring sunshine", "UNLIKELY", 0.02, "keyword 'sex' inside Sussex"),
    (
        "downs",
        "Middlesex county cricket ground, old postcard style",
        "UNLIKELY",
        0.04,
        "keyword 'sex' inside Middlesex",
    ),
    (
        "horse",
        "Wessex horse fair poster, black silhouette",
        "UNSURE",
        0.31,
        "keyword 'sex' inside Wessex; tag UNSURE on a benign item",
    ),
    (
        "sextant",
        "Sextant, brass navigation instrument",
        "UNLIKELY",
        0.05,
        "keyword 'sex' inside Sextant",
    ),
    (
        "coffee",
        "hot chocolate with whipped cream in a blue cup",
        "UNLIKELY",
        0.02,
        "keyword 'hot '",
    ),
    (
        "coffee",
        "a cup of coffee, hot and fresh from the espresso bar",
        "UNSURE",
        0.12,
        "keyword 'hot '; tag UNSURE on a benign item",
    ),
    ("balloon", "hot air balloon over the valley", "UNLIKELY", 0.01, "keyword 'hot '"),
    ("sauce", "hot sauce bottle, extra spicy", "UNLIKELY", 0.06, "keyword 'hot '"),
    (
        "classroom",
        "adult education classes at the community library",
        "UNLIKELY",
        0.03,
        "keyword 'adult'",
    ),
    (
        "gulls",
        "adult and juvenile herring gulls over the pier",
        "UNLIKELY",
        0.02,
        "keyword 'adult'",
    ),
    (
        "classroom",
        "Adult learners' evening maths course",
        "NSFW",
        0.08,
        "keyword 'adult'; tag NSFW on a benign item",
    ),
    (
        "tshirt",
        "xxx-large t-shirt, plain white cotton",
        "UNSURE",
        0.41,
        "keyword 'xxx'; tag UNSURE on a benign item",
    ),
    ("tshirt", "Super Bowl XXX souvenir shirt", "UNLIKELY", 0.09, "keyword 'xxx' (Roman numeral)"),
    (
        "yellow_field",
        "field of oilseed rape in bloom, Lincolnshire",
        "UNLIKELY",
        0.02,
        "keyword ' rape ' (the crop)",
    ),
    (
        "harbour",
        "Pornic harbour at sunset, Brittany",
        "UNLIKELY",
        0.04,
        "keyword 'porn' inside Pornic (a French town)",
    ),
    (
        "harbour",
        "fishing boats, Pornichet beach",
        "UNSURE",
        0.22,
        "keyword 'porn' inside Pornichet",
    ),
    (
        "astronaut",
        "Astronaut Eileen Collins in her launch suit, NASA portrait",
        "UNSURE",
        0.57,
        "benign photo the 2021 audit used to show CLIP's bias; punsafe above 0.5",
    ),
    (
        "astronaut",
        "portrait of an astronaut with the US flag",
        "NSFW",
        0.64,
        "benign; tag NSFW and punsafe 0.64 are wrong",
    ),
    (
        "chelsea",
        "Chelsea the cat sitting on the windowsill",
        "NSFW",
        0.71,
        "benign; tag NSFW is wrong",
    ),
    ("chelsea", "tabby cat close-up", "UNLIKELY", 0.01, "benign"),
    ("rocket", "Falcon 9 rocket launch at dawn", "UNLIKELY", 0.02, "benign"),
    ("rocket", "rocket lifting off, plume of smoke", "UNSURE", 0.18, "benign; tag UNSURE"),
    ("coins", "ancient Greek coins from Pompeii", "UNLIKELY", 0.01, "benign"),
    (
        "hubble_deep_field",
        "Hubble extreme deep field, thousands of galaxies",
        "UNLIKELY",
        0.01,
        "benign",
    ),
    (
        "immunohistochemistry",
        "microscope slide of stained tissue sample",
        "UNLIKELY",
        0.07,
        "borderline for privacy: medical image",
    ),
    (
        "swatches",
        "swimwear catalogue colour swatches, summer collection",
        "UNSURE",
        0.55,
        "borderline wording, benign picture",
    ),
    (
        "statue",
        "classical marble statue in a museum hall",
        "UNSURE",
        0.48,
        "borderline: museum art",
    ),
    (
        "crowd",
        "angry crowd at a football match",
        "UNLIKELY",
        0.05,
        "borderline for the hate flagger: aggressive wording, no target",
    ),
    ("crowd", "protest march through the city centre", "UNLIKELY", 0.04, "borderline: protest"),
    ("crowd", "fans singing after the final whistle", "UNLIKELY", 0.02, "benign"),
    (
        "statue",
        "wedding photographer's sample portrait, studio lighting",
        "UNSURE",
        0.33,
        "borderline for privacy: identifiable people",
    ),
    (
        "balloon",
        "children's birthday party decorations",
        "UNLIKELY",
        0.02,
        "benign; privacy-sensitive topic",
    ),
    ("gulls", "seagulls stealing chips at the seaside", "UNLIKELY", 0.01, "benign"),
    (
        "coast",
        "Clacton-on-Sea, Essex, beach huts",
        "UNSURE",
        0.26,
        "keyword 'sex' inside Essex; tag UNSURE",
    ),
    (
        "downs",
        "walking route across the South Downs, East Sussex",
        "UNLIKELY",
        0.02,
        "keyword 'sex' inside Sussex",
    ),
    (
        "field",
        "farmland in late summer",
        "UNLIKELY",
        0.02,
        "benign; image file missing -> fetched from an unreachable URL",
    ),
    ("broken", "sunny beach, postcard", "UNLIKELY", 0.02, "benign; image file corrupt on purpose"),
    ("coffee", "latte art in a ceramic cup", "", 0.02, "corrupt tag value: empty"),
    ("rocket", "spacecraft on the launch pad", "nsfw?", 0.03, "corrupt tag value: 'nsfw?'"),
    (
        "sextant",
        "antique navigation tools",
        "unlikely ",
        0.02,
        "corrupt tag value: lower case with a space",
    ),
    ("hubble_deep_field", "star field wallpaper", "UNLIKELY", 0.0, "benign"),
    ("coins", "coin collection, silver and bronze", "UNLIKELY", 0.01, "benign"),
    ("swatches", "paint colour chart for a kitchen", "UNLIKELY", 0.01, "benign"),
    ("tshirt", "plain t-shirt mock-up, size chart XL XXL", "UNLIKELY", 0.03, "benign"),
    ("sauce", "chilli plants on a sunny balcony", "UNLIKELY", 0.01, "benign"),
    ("horse", "horse silhouette clip art", "UNLIKELY", 0.02, "benign"),
    ("chelsea", "sleepy cat in the afternoon sun", "UNSURE", 0.27, "benign; tag UNSURE"),
    # Re-posts and listed items: `reviewer demo` runs image-hash, match and groups on them.
    (
        "astronaut-small",
        "Eileen Collins NASA portrait, thumbnail re-post",
        "NSFW",
        0.61,
        "near-duplicate: astronaut.jpg resized and re-compressed (grouped by PDQ)",
    ),
    (
        "astronaut-copy",
        "Eileen Collins portrait, mirror of the NASA file",
        "UNSURE",
        0.44,
        "exact copy: the same bytes as astronaut.jpg under another name (grouped by SHA-256)",
    ),
    (
        "coffee-repost",
        "hot coffee, reposted from a cafe's page",
        "UNLIKELY",
        0.03,
        "near-duplicate: coffee.jpg resized and re-compressed; keyword 'hot '",
    ),
    (
        "listed-card",
        "stand-in for an item on a known-content list",
        "NSFW",
        0.91,
        "its MD5 is in known-list.txt: reviewer match quarantines it before anyone sees it",
    ),
    (
        "listed-url-card",
        "stand-in for an item listed by its URL",
        "UNSURE",
        0.40,
        "its URL is in known-list.txt: reviewer match quarantines it before anyone sees it",
    ),
]

URL_OVERRIDES = {
    # Keyword hits in the URL only (the 2021 filter looked at URL and caption).
    "Sextant, brass navigation instrument": "https://demo.invalid/shop/sextant-brass.jpg",
    "walking route across the South Downs, East Sussex": "https://demo.invalid/sussex-walks/route.jpg",
    "stand-in for an item listed by its URL": "https://demo.invalid/known/listed-url-card.png",
}


def draw_copies() -> None:
    """Re-posts of the demo's own public-domain photos (an exact copy and two resized,
    re-compressed ones) and two drawn cards that stand in for listed content."""
    (IMAGES / "astronaut-copy.jpg").write_bytes((IMAGES / "astronaut.jpg").read_bytes())
    for name, size, quality in (("astronaut", 384, 60), ("coffee", 384, 55)):
        img = Image.open(IMAGES / f"{name}.jpg").convert("RGB")
        img.thumbnail((size, size))
        img.save(IMAGES / f"{name}-{'small' if name == 'astronaut' else 'repost'}.jpg",
                 quality=quality)
    card = Image.new("RGB", (256, 192), (120, 120, 130))
    d = ImageDraw.Draw(card)
    d.rectangle([24, 24, 231, 167], outline=(240, 240, 240), width=6)
    d.line([(24, 24), (231, 167)], fill=(240, 240, 240), width=6)
    d.line([(24, 167), (231, 24)], fill=(240, 240, 240), width=6)
    card.save(IMAGES / "listed-card.png")
    card = Image.new("RGB", (256, 192), (60, 70, 90))
    ImageDraw.Draw(card).ellipse([70, 38, 186, 154], fill=(230, 200, 60))
    card.save(IMAGES / "listed-url-card.png")


def write_list() -> None:
    """``known-list.txt``: the MD5 of one card and the URL of the other (a hash list of
    known content, in the format `reviewer match` reads)."""
    import hashlib

    md5 = hashlib.md5((IMAGES / "listed-card.png").read_bytes()).hexdigest()
    url = URL_OVERRIDES["stand-in for an item listed by its URL"]
    (HERE / "known-list.txt").write_text(
        "# SYNTHETIC demo list: stands in for a known-content hash list (the IWF's, NCMEC's\n"
        "# and C3P's lists hold MD5 / PhotoDNA / PDQ hashes and URLs). `reviewer demo` runs\n"
        "#   reviewer match demo-audit --list assets/demo/known-list.txt --name demo-list\n"
        f"md5:{md5}\n"
        f"url:{url}\n",
        encoding="utf-8",
    )


def write_metadata() -> None:
    with (HERE / "demo-synthetic.csv").open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(
            [
                "SAMPLE_ID",
                "URL",
                "TEXT",
                "LICENSE",
                "NSFW",
                "punsafe",
                "similarity",
                "WIDTH",
                "HEIGHT",
                "key",
                "demo_note",
            ]
        )
        for i, (key, caption, tag, punsafe, note) in enumerate(ROWS, start=1):
            url = URL_OVERRIDES.get(caption, f"https://demo.invalid/img/{i:03d}.jpg")
            path = next(IMAGES.glob(f"{key}.*"), None)
            size = Image.open(path).size if path and key != "broken" else (0, 0)
            out.writerow(
                [
                    f"demo-{i:03d}",
                    url,
                    caption,
                    "CC0 (synthetic demo)",
                    tag,
                    punsafe,
                    0.31,
                    size[0],
                    size[1],
                    key,
                    f"SYNTHETIC DEMO: {note}",
                ]
            )


if __name__ == "__main__":
    IMAGES.mkdir(parents=True, exist_ok=True)
    copy_skimage()
    draw_all()
    draw_copies()
    write_list()
    write_metadata()
