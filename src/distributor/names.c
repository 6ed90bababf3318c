/* ALBM: albmd's object names (services, servers, peers) — the one rule they follow */
#include "distributor/names.h"

#include <ctype.h>
#include <string.h>

#include "albm/metrics-t.h"

bool albmd_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= ALBM_NAME_MAX || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
			return false;
	return true;
}
