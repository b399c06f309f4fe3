/*
 * wallboard.c - GET /: the supervisors' wallboard, served from the binary.
 *
 * The page (web/wallboard.html, .js, .css) is embedded at build time by
 * mk/embed-web.sh, so the daemon reads no file at run time and the page needs
 * nothing from any other host: it must work on a hotline's closed network.
 * Every answer carries a strict Content-Security-Policy: scripts and styles
 * only from this origin, no inline script, no framing, connections only back
 * to us.  The page holds no data; the data come from the API (GET
 * /v1/session, /v1/board, the SSE stream), which checks who is asking.
 *
 * The language is chosen here from Accept-Language (zh-* -> zh-CN, else
 * English) and written into <html lang>; the page lets the user switch and
 * remembers the choice in localStorage.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "daemon.h"
#include "http_api.h"

struct hl_asset { const char *path, *type, *data; size_t len; };
extern const struct hl_asset hl_assets[];
extern const size_t hl_n_assets;

static const char CSP[] =
	"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/* "zh-CN" when Accept-Language prefers any Chinese over English, else "en". */
static const char *pick_lang(struct evhttp_request *req)
{
	const char *h = evhttp_find_header(evhttp_request_get_input_headers(req), "Accept-Language");
	double best_zh = -1, best_en = -1;
	while (h && *h) {
		while (*h == ' ' || *h == ',')
			h++;
		size_t n = strcspn(h, ",");
		double q = 1.0;
		const char *qp = memchr(h, ';', n);
		if (qp && strncmp(qp, ";q=", 3) == 0)
			q = atof(qp + 3);
		if (strncasecmp(h, "zh", 2) == 0 && q > best_zh)
			best_zh = q;
		else if ((strncasecmp(h, "en", 2) == 0 || *h == '*') && q > best_en)
			best_en = q;
		h += n;
	}
	return best_zh > best_en ? "zh-CN" : "en";
}

static const struct hl_asset *find_asset(const char *path)
{
	const char *want = strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0 ? "/wallboard.html" : path;
	const struct hl_asset *a = NULL;
	for (size_t i = 0; i < hl_n_assets; i++)
		if (strcmp(hl_assets[i].path, want) == 0)
			a = &hl_assets[i];
	return a;
}

bool wallboard_has(const char *path) { return find_asset(path) != NULL; }

bool wallboard_serve(struct evhttp_request *req, const char *path)
{
	const struct hl_asset *a = find_asset(path);
	if (!a)
		return false;
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Content-Security-Policy", CSP);
	evhttp_add_header(h, "Cache-Control", "no-cache");
	size_t len = a->len ? a->len : strlen(a->data);
	const char *mark = strstr(a->data, "__LANG__");
	if (mark) {
		/* the one placeholder: <html lang="__LANG__"> */
		const char *lang = pick_lang(req);
		struct evbuffer *b = evbuffer_new();
		evbuffer_add(b, a->data, (size_t)(mark - a->data));
		evbuffer_add(b, lang, strlen(lang));
		evbuffer_add(b, mark + 8, len - (size_t)(mark - a->data) - 8);
		evhttp_add_header(h, "Vary", "Accept-Language");
		http_common_headers(req);
		evhttp_add_header(h, "Content-Type", a->type);
		http_send_reply(req, 200, "OK", b);
		evbuffer_free(b);
	} else {
		http_send_text(req, 200, a->type, a->data, len);
	}
	return true;
}
