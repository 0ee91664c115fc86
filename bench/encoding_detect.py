"""Legacy-encoding detection benchmark: `encodings.detect` on a 100k-row survey column
in VNI and TCVN3, against decoding the same bytes once with the right codec (the floor:
detection must at least read every value).

    .venv/bin/python bench/encoding_detect.py [--rows 100000]
Prints seconds and the ratio detect / plain decode. No network, no database.
"""
from __future__ import annotations

import argparse
import random
import time

from gis_app.geo.encodings import decode, detect, encode

NAMES = ["Khoái Châu", "Đền Đa Hòa", "Chử Đồng Tử", "Hưng Yên", "Đình Đa Hòa", "Dạ Trạch",
         "Bình Minh", "Tân Châu", "Hàm Tử", "Văn chỉ Bình Dân", "Triệu Việt Vương",
         "ĐỀN ĐA HÒA", "Hòa", "Khu 3", "xã Đông Tảo", "Nguyễn Thị Huỳnh", "Thủy", "Quỳnh"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    rnd = random.Random(5)
    syllables = " ".join(NAMES).split()
    texts = [" ".join(rnd.choice(syllables) for _ in range(rnd.randint(1, 5))) + f" {i % 97}"
             for i in range(args.rows)]
    print(f"encoding detection, {args.rows:,} values")
    print(f"{'encoding':10} {'detect s':>9} {'decode s':>9} {'ratio':>6}")
    for encoding in ("vni", "tcvn3"):
        values = [("TEN_DT", row, encode(text, encoding))
                  for row, text in enumerate(texts, start=1)]
        start = time.perf_counter()
        found = detect(values)
        detected = time.perf_counter() - start
        assert found.encoding == encoding, found.encoding
        start = time.perf_counter()
        for _field, _row, raw in values:
            decode(raw, encoding)
        floor = time.perf_counter() - start
        print(f"{encoding:10} {detected:9.3f} {floor:9.3f} {detected / floor:6.2f}")


if __name__ == "__main__":
    main()
