/* Private to the library simulation: the catalogue loader shared by library.c and the tests'
 * view of it. Not part of the synth API. */
#ifndef TL_SYNTH_LIBRARY_INT_H
#define TL_SYNTH_LIBRARY_INT_H

#include "synth/synth.h"
#include "util/intern.h"

/* Reads books.csv (and the subjects file when o->subjects_path is set) into lib->books,
 * lib->nbooks, lib->series and lib->nseries; fills every tl_synth_book field except added and
 * copies. First authors are interned into authors (caller-initialised) and book.author indexes
 * them. Errors: TL_EIO, TL_EPARSE (d says where), TL_ENOMEM. On error lib may hold a partial
 * catalogue: the caller releases it. */
tl_err tl__synth_load_books(const tl_synth_lib_opts *o, tl_synth_library *lib, tl_intern *authors,
                            tl_diag *d);

#endif
