"""Files in and out: vector layers (GeoJSON, CSV, GeoPackage, zipped Shapefile), OSM features,
and the Chinese web-map coordinate systems GCJ-02 and BD-09."""
