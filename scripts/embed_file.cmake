# Writes a C file that holds the bytes of a file, so that the binary carries it (the OpenAPI
# document served at GET /v1/openapi.json). Run by add_custom_command at build time:
#   cmake -DIN=docs/openapi.json -DOUT=build/generated/openapi_doc.c -DNAME=tl__openapi_doc
#         -DHEADER=server/openapi_doc.h -P scripts/embed_file.cmake
# defines `const unsigned char NAME[]` (the bytes plus a NUL) and `const size_t NAME_len`.
foreach(v IN ITEMS IN OUT NAME HEADER)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "embed_file.cmake: -D${v}=... is required")
  endif()
endforeach()
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" hex_len)
math(EXPR len "${hex_len} / 2")
# "0x41," per byte, 16 bytes (32 hex digits) a line
set(bytes "")
set(at 0)
while(at LESS hex_len)
  string(SUBSTRING "${hex}" ${at} 32 chunk)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," chunk "${chunk}")
  string(APPEND bytes "    ${chunk}\n")
  math(EXPR at "${at} + 32")
endwhile()
file(WRITE ${OUT}.tmp
  "/* Generated from ${IN} by scripts/embed_file.cmake: do not edit. */\n"
  "#include \"${HEADER}\"\n\n"
  "const unsigned char ${NAME}[] = {\n${bytes}    0x00};\n"
  "const size_t ${NAME}_len = ${len};\n")
# Only a changed file is rewritten, so that nothing is rebuilt for nothing.
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUT}.tmp)
