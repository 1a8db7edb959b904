#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <math.h>
#include <ctype.h>
#include <stdint.h>
static int s2ld(const char *s, long double *dp) {
    char *eptr; size_t slen = strlen(s);
    if (slen == 0 || slen >= 5120) return 0;
    errno = 0;
    long double v = strtold(s, &eptr);
    if (isspace((unsigned char)s[0]) || eptr[0] != '\0' || ((errno == ERANGE) && (v == HUGE_VALL || v == -HUGE_VALL || fpclassify(v) == FP_ZERO)) || isnan(v)) return 0;
    *dp = v; return 1;
}
static int s2d(const char *s, double *dp) {
    char *eptr; size_t slen = strlen(s);
    errno = 0;
    double v = strtod(s, &eptr);
    if (slen == 0 || isspace((unsigned char)s[0]) || (size_t)(eptr - s) != slen || (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || fpclassify(v) == FP_ZERO)) || isnan(v)) return 0;
    *dp = v; return 1;
}
static void bits(long double v) {
    unsigned char b[16] = {0}; memcpy(b, &v, 10);
    printf("%02x%02x", b[9], b[8]);
    for (int i = 7; i >= 0; i--) printf("%02x", b[i]);
}
static void human(long double v) {
    char buf[6000];
    if (isinf(v)) { printf(v > 0 ? "inf" : "-inf"); return; }
    int l = snprintf(buf, sizeof buf, "%.17Lf", v);
    if (strchr(buf, '.')) { char *p = buf + l - 1; while (*p == '0') { p--; l--; } if (*p == '.') l--; }
    if (l == 2 && buf[0] == '-' && buf[1] == '0') { buf[0] = '0'; l = 1; }
    buf[l] = 0; printf("%s", buf);
}
static char line[1 << 16];
int main() {
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = 0;
        char *op = strtok(line, " "); char *a = strtok(NULL, " "); char *b = strtok(NULL, " ");
        if (!op) continue;
        if (!a) a = "";
        if (!strcmp(op, "ld")) {
            long double v;
            if (!s2ld(a, &v)) { printf("err\n"); continue; }
            bits(v); printf(" "); human(v); printf(" %.17Lg\n", v);
        } else if (!strcmp(op, "add")) {
            long double x, y;
            if (!s2ld(a, &x) || !s2ld(b ? b : "", &y)) { printf("err\n"); continue; }
            long double z = x + y;
            bits(z); printf(" "); human(z); printf("\n");
        } else if (!strcmp(op, "d")) {
            uint64_t u = strtoull(a, NULL, 16); double d; memcpy(&d, &u, 8);
            printf("%.17g %.4f ", d, d); human((long double)d); printf("\n");
        } else if (!strcmp(op, "sd")) {
            double d;
            if (!s2d(a, &d)) { printf("err\n"); continue; }
            uint64_t u; memcpy(&u, &d, 8); printf("%016llx\n", (unsigned long long)u);
        }
        fflush(stdout);
    }
}
