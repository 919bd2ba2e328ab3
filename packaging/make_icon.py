"""Draw xlbatch's application icon with QPainter and write resources/icons/xlbatch.png and xlbatch.ico.

The icon: a green rounded square (Excel's family of colours) holding a stack of sheets, the front one
with a table grid: "many workbooks". Each size is drawn on its own rather than scaled down from the
largest, so the 16 and 24 pixel versions stay crisp (fewer grid lines, whole-pixel edges).

The .ico holds PNG-compressed images at 16, 20, 24, 32, 40, 48, 64, 128 and 256 pixels, which Windows
Vista and later read (the ICO container is written here; it is a 6-byte header, a 16-byte entry per
image, then the images).

Run:  python packaging/make_icon.py   (no display needed: it uses Qt's offscreen platform)
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QRectF, Qt  # noqa: E402
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QImage, QLinearGradient, QPainter, QPen  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ICON_DIR = ROOT / "resources" / "icons"
ICO_SIZES = (16, 20, 24, 32, 40, 48, 64, 128, 256)


def draw(size: int) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = float(size)
    small = size <= 24

    # Background tile.
    margin = 0.0 if small else s * 0.04
    tile = QRectF(margin, margin, s - 2 * margin, s - 2 * margin)
    gradient = QLinearGradient(tile.topLeft(), tile.bottomLeft())
    gradient.setColorAt(0.0, QColor("#2fa36b"))
    gradient.setColorAt(1.0, QColor("#17603b"))
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QBrush(gradient))
    radius = s * 0.2
    p.drawRoundedRect(tile, radius, radius)

    # Sheets behind the front one: the batch.
    front = QRectF(s * 0.22, s * 0.30, s * 0.50, s * 0.50)
    if not small:
        for step, alpha in ((2, 90), (1, 150)):
            offset = s * 0.07 * step
            back = front.translated(offset, -offset)
            p.setBrush(QColor(255, 255, 255, alpha))
            p.drawRoundedRect(back, s * 0.04, s * 0.04)
    else:
        back = front.translated(s * 0.12, -s * 0.12)
        p.setBrush(QColor(255, 255, 255, 140))
        p.drawRect(back)

    # The front sheet with a table: a green header row and grid lines.
    p.setBrush(QColor("#ffffff"))
    p.drawRoundedRect(front, s * 0.04 if not small else 0, s * 0.04 if not small else 0)
    rows = 3 if small else 4
    cols = 2 if small else 3
    header = QRectF(front.left(), front.top(), front.width(), front.height() / rows)
    p.setBrush(QColor("#bfe3cf"))
    p.drawRect(header.adjusted(s * 0.02, s * 0.02, -s * 0.02, 0))
    pen = QPen(QColor("#1f7a4d"), max(1.0, s / 64))
    p.setPen(pen)
    for r in range(1, rows):
        y = front.top() + front.height() * r / rows
        if small:
            y = round(y) + 0.5
        p.drawLine(QPointF(front.left() + s * 0.02, y), QPointF(front.right() - s * 0.02, y))
    for c in range(1, cols):
        x = front.left() + front.width() * c / cols
        if small:
            x = round(x) + 0.5
        p.drawLine(QPointF(x, front.top() + s * 0.02), QPointF(x, front.bottom() - s * 0.02))

    # A "run" chevron badge on the larger sizes.
    if size >= 40:
        badge = QRectF(s * 0.58, s * 0.58, s * 0.32, s * 0.32)
        p.setPen(QPen(QColor("#ffffff"), s * 0.025))
        p.setBrush(QColor("#0f4f30"))
        p.drawEllipse(badge)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor("#ffffff"))
        c = badge.center()
        w = badge.width()
        triangle = [
            QPointF(c.x() - w * 0.12, c.y() - w * 0.18),
            QPointF(c.x() + w * 0.2, c.y()),
            QPointF(c.x() - w * 0.12, c.y() + w * 0.18),
        ]
        p.drawPolygon(triangle)
    p.end()
    return image


def png_bytes(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())


def write_ico(path: Path, images: list[tuple[int, bytes]]) -> None:
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = len(header) + 16 * len(images)
    entries = b""
    blobs = b""
    for size, blob in images:
        dim = 0 if size >= 256 else size  # 0 means 256 in the ICO directory
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(blob), offset + len(blobs))
        blobs += blob
    path.write_bytes(header + entries + blobs)


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    ICON_DIR.mkdir(parents=True, exist_ok=True)
    images = [(size, png_bytes(draw(size))) for size in ICO_SIZES]
    write_ico(ICON_DIR / "xlbatch.ico", images)
    (ICON_DIR / "xlbatch.png").write_bytes(dict(images)[256])
    print(f"wrote {ICON_DIR / 'xlbatch.ico'} ({len(images)} sizes) and {ICON_DIR / 'xlbatch.png'}")
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
