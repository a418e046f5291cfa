/*
 * web_asset: the dashboard's files, embedded at build time by
 * daemon/embed_web.cmake from every file under web/ (generated
 * web_assets.c). Names are paths relative to web/ ("index.html",
 * "js/app.js"); the table is sorted by name.
 */
#ifndef WEFT_WEB_ASSET_H
#define WEFT_WEB_ASSET_H

#include <stddef.h>

struct web_asset {
	const char *name;
	const unsigned char *data;
	size_t size;
	const char *mime;
};

extern const struct web_asset web_assets[];
extern const size_t web_asset_count;

#endif
