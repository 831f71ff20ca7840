#ifndef BROADSIDE_CCURL_SHIM_H
#define BROADSIDE_CCURL_SHIM_H
#include <curl/curl.h>
#endif
