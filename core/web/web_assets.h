/*
 * web_assets.h -- the UI's files and the OpenAPI document, compiled into the binary from core/web/ui/ (the
 * build generates web_assets.c with core/web/embed.c), so the UI works with no network and no files.
 */
#ifndef MLF_CORE_WEB_ASSETS_H
#define MLF_CORE_WEB_ASSETS_H

#include <stddef.h>

typedef struct mlf_web_asset {
    const char *name; /**< file name under core/web/ui/, e.g. "app.js" */
    const unsigned char *data;
    size_t len;
} mlf_web_asset;

/** The asset named @p name, or NULL. */
const mlf_web_asset *mlf_web_asset_find(const char *name);

/** Every asset, and their number. */
extern const mlf_web_asset mlf_web_assets[];
extern const size_t mlf_web_asset_count;

#endif
