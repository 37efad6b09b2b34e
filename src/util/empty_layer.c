/* Stands in for a layer folder that has no sources yet, so CMake can still create its target. */
typedef int tl_empty_layer;
