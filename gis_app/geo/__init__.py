"""Geodesy and text helpers for survey files: CRS (VN-2000), legacy encodings."""
