#!/usr/bin/env python3
"""walkthrough_data.py DIR: the walkthrough's "your images", generated.

DIR/frames/000000.png ... (60 frames, 16x16 RGB, in time order): class c (0 red, 1 green,
2 blue) is the brighter channel, over seeded noise; the second half is darker ("night").
DIR/labels.csv: `frame,label` for every third frame, as if someone labeled those.
PNG is written with zlib alone (no imaging library needed).
"""
import os
import random
import struct
import sys
import zlib


def png(path, width, height, rgb):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + bytes(rgb[y * width * 3:(y + 1) * width * 3]) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
                + chunk(b"IEND", b""))


def main():
    out = sys.argv[1]
    os.makedirs(os.path.join(out, "frames"), exist_ok=True)
    rng = random.Random(7)
    labels = []
    for i in range(60):
        c = rng.randrange(3)
        scale = 1.0 if i < 30 else 0.5
        rgb = []
        for _ in range(16 * 16):
            for ch in range(3):
                rgb.append(int(scale * ((170 if ch == c else 40) + rng.randrange(60))))
        name = f"{i:06d}.png"
        png(os.path.join(out, "frames", name), 16, 16, rgb)
        if i % 3 == 0:
            labels.append(f"{name},{c}\n")
    with open(os.path.join(out, "labels.csv"), "w") as f:
        f.writelines(labels)


if __name__ == "__main__":
    main()
