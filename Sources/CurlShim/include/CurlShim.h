#ifndef BROADSIDE_CURL_SHIM_H
#define BROADSIDE_CURL_SHIM_H

#include <curl/curl.h>

// curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call.
// These typed wrappers each pass exactly one kind of argument.

CURLcode bs_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode bs_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode bs_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode bs_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);

typedef size_t (*bs_read_callback)(char *buffer, size_t size, size_t count, void *context);
typedef size_t (*bs_write_callback)(char *buffer, size_t size, size_t count, void *context);
typedef int (*bs_debug_callback)(CURL *handle, curl_infotype type, char *data, size_t size, void *context);

CURLcode bs_setopt_read_function(CURL *handle, bs_read_callback callback, void *context);
CURLcode bs_setopt_write_function(CURL *handle, bs_write_callback callback, void *context);
/// For SMTP, IMAP and POP3 curl passes every server response to the header callback.
CURLcode bs_setopt_header_function(CURL *handle, bs_write_callback callback, void *context);
CURLcode bs_setopt_debug_function(CURL *handle, bs_debug_callback callback, void *context);

CURLcode bs_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode bs_getinfo_string(CURL *handle, CURLINFO info, const char **value);

#endif
