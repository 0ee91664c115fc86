"""VN-2000 TM-3 rows in spatial_ref_sys (EPSG:9209, 9210) for OGC API `crs=`

Revision ID: 0026_ogc_crs
Revises: 0025_report_tokens
Create Date: 2026-12-03 06:40:00

PostGIS 3.3 ships spatial_ref_sys without EPSG:9209 (VN-2000 / TM-3 105-30, Hưng Yên)
and 9210 (TM-3 105-45), so `ST_Transform(geom, 9209)` failed. The OGC API serves and
accepts coordinates in 9209 (`crs=`, `bbox-crs=`): the rows are added here. `srtext` is
pyproj's WKT1 of the EPSG definition; `proj4text` carries the official VN-2000 -> WGS 84
shift (Decision 05/2007/QĐ-BTNMT, EPSG:6960) with the rotations flipped to PROJ's
position-vector convention (docs: /work/shared/domain/crs.md). PostGIS first asks PROJ
for "EPSG:9209" by its authority code, so PROJ applies EPSG:6960 itself; the proj4
string gives the same positions (to the millimetre) where PROJ lacks the code.
Rows already present (a newer PostGIS) are left as they are.
"""
from alembic import op

revision = '0026_ogc_crs'
down_revision = '0025_report_tokens'
branch_labels = None
depends_on = None

TOWGS84 = ("+towgs84=-191.90441429,-39.30318279,-111.45032835,"
           "0.00928836,-0.01975479,0.00427372,0.252906278")


def _wkt(name: str, central_meridian: str, code: int) -> str:
    return (
        f'PROJCS["{name}",GEOGCS["VN-2000",DATUM["Vietnam_2000",SPHEROID["WGS 84",6378137,'
        '298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6756"]],PRIMEM['
        '"Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,'
        'AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4756"]],PROJECTION['
        '"Transverse_Mercator"],PARAMETER["latitude_of_origin",0],PARAMETER['
        f'"central_meridian",{central_meridian}],PARAMETER["scale_factor",0.9999],'
        'PARAMETER["false_easting",500000],PARAMETER["false_northing",0],UNIT["metre",1,'
        'AUTHORITY["EPSG","9001"]],AXIS["Easting",EAST],AXIS["Northing",NORTH],'
        f'AUTHORITY["EPSG","{code}"]]')


ROWS = [
    (9209, _wkt("VN-2000 / TM-3 105-30", "105.5", 9209),
     f"+proj=tmerc +lat_0=0 +lon_0=105.5 +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84 "
     f"{TOWGS84} +units=m +no_defs"),
    (9210, _wkt("VN-2000 / TM-3 105-45", "105.75", 9210),
     f"+proj=tmerc +lat_0=0 +lon_0=105.75 +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84 "
     f"{TOWGS84} +units=m +no_defs"),
]


def upgrade() -> None:
    for srid, wkt, proj4 in ROWS:
        op.execute(
            f"""INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, srtext, proj4text)
                SELECT {srid}, 'EPSG', {srid}, $wkt${wkt}$wkt$, $p4${proj4}$p4$
                 WHERE NOT EXISTS (SELECT 1 FROM spatial_ref_sys WHERE srid = {srid})""")


def downgrade() -> None:
    # Only the rows written above (their proj4text carries this revision's shift).
    for srid, _wkt_text, proj4 in ROWS:
        op.execute(f"DELETE FROM spatial_ref_sys WHERE srid = {srid} "
                   f"AND proj4text = $p4${proj4}$p4$")
