/* forecast -- the model of the crypto_ml example, an operator plugin built out of tree against the SDK:
 *
 *     make                     # cc -shared -fPIC $(pkg-config --cflags mlflowd-plugin) forecast.c -o forecast.so
 *     make SDK_CFLAGS=-I../../../sdk      # or against the headers of a source tree
 *
 * It registers one operator, `linreg_forecast`, which forecasts the next closes of one coin from a window of
 * its z-scored closes (what the example's normalise task writes, one map per coin, so that a DAG maps the
 * operator over coins with `expand: {series: "{{ xcom.normalise }}"}`). The model is linear in the window:
 *
 *   - with `model` (the deployed row of the models table: version, window, weights, bias):
 *         z_next = bias + sum(weights[i] * z[i])
 *   - without one (nothing deployed yet): an ordinary least-squares trend line through the window, one step
 *     further. That is a linear model too, with weights fixed by the window length.
 *
 * Several days ahead are forecast recursively: each forecast joins the window and the oldest value leaves.
 * Forecasts are turned back into prices with the window's mean and standard deviation.
 *
 * XCom return_value: {"coin": str, "last": float, "predicted": [float, ...horizon], "change": float
 * (predicted[0] / last - 1, 0 when last is not positive), "model_version": int (0: the trend line)}.
 *
 * Inputs come from upstream XComs, so they are checked before use: a malformed series or model fails the
 * try without retry (a retry would read the same values), and the message says what is wrong. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mlflowd/mlflowd.h>

#define FORECAST_MAX_WINDOW 1000
#define FORECAST_MAX_HORIZON 365

static const mlf_param_spec forecast_params[] = {
    {.name = "series", .type = MLF_PARAM_MAP, .flags = MLF_PARAM_REQUIRED | MLF_PARAM_TEMPLATED,
     .help = "one coin's window: {coin: str, z: [numbers, oldest first], mean: number, std: number > 0}"},
    {.name = "model", .type = MLF_PARAM_ANY, .flags = MLF_PARAM_TEMPLATED, .default_value = "null",
     .help = "the deployed model {version, window, weights, bias}, weights a list or a JSON/comma-separated "
             "string of numbers; null fits a trend line through the window instead"},
    {.name = "horizon", .type = MLF_PARAM_INT, .flags = MLF_PARAM_TEMPLATED, .default_value = "1",
     .help = "days to forecast (1..365)"},
    {0}};

/* A linear model over a window of n values: next = bias + sum(w[i] * window[i]). */
typedef struct linear_model {
    double w[FORECAST_MAX_WINDOW];
    size_t n;
    double bias;
    int64_t version; /* 0: the trend line */
} linear_model;

/* The number in @p v (int or float) into @p out, refusing NaN and infinities. Returns 1 when it is one. */
static int finite_number(const mlf_value *v, double *out)
{
    mlf_type t = mlf_value_type(v);
    return (t == MLF_INT || t == MLF_FLOAT) && mlf_value_get_float(v, out) == MLF_OK && isfinite(*out);
}

/* Parses "[1.5, -2e-3, 4]", "1.5,-2e-3,4" or "1.5 -2e-3 4" into @p out (at most @p max numbers). Returns the
 * count, or -1 when the text is not such a list (or has more than @p max numbers). */
static long parse_number_text(const char *s, double *out, size_t max)
{
    size_t n = 0;
    int bracket = 0;
    s += strspn(s, " \t\r\n");
    if (*s == '[') {
        bracket = 1;
        s++;
    }
    for (;;) {
        s += strspn(s, " \t\r\n");
        if (*s == '\0' || *s == ']')
            break;
        char *end;
        double d = strtod(s, &end);
        if (end == s || !isfinite(d) || n == max)
            return -1;
        out[n++] = d;
        s = end + strspn(end, " \t\r\n");
        if (*s == ',')
            s++;
        else if (*s != '\0' && *s != ']' && end == s)
            return -1; /* two numbers need a comma or a space between them */
    }
    if (bracket != (*s == ']'))
        return -1;
    if (*s == ']')
        s++;
    s += strspn(s, " \t\r\n");
    return *s == '\0' ? (long)n : -1;
}

/* Reads the window @p z (an array of 2 to FORECAST_MAX_WINDOW numbers) into @p out. Returns its length, or 0
 * after setting the task's message. */
static size_t read_window(mlf_task_ctx *ctx, const char *coin, const mlf_value *z, double *out)
{
    size_t n = mlf_value_len(z);
    if (mlf_value_type(z) != MLF_ARRAY || n < 2 || n > FORECAST_MAX_WINDOW) {
        mlf_ctx_set_message(ctx, "linreg_forecast: %s: series.z must be a list of 2 to %d numbers (got %s of %zu)",
                            coin, FORECAST_MAX_WINDOW, mlf_type_name(mlf_value_type(z)), n);
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        if (!finite_number(mlf_array_at(z, i), &out[i])) {
            mlf_ctx_set_message(ctx, "linreg_forecast: %s: series.z[%zu] is not a finite number (%s)", coin, i,
                                mlf_type_name(mlf_value_type(mlf_array_at(z, i))));
            return 0;
        }
    return n;
}

/* The least-squares line through (i, z[i]), i = 0..n-1, evaluated at i = n, written as a linear model:
 * slope b = sum((i - m) z[i]) / sxx and intercept a = mean(z) - b m, with m = (n - 1) / 2, so
 * z_next = sum(z[i] * (1/n + (i - m)(n - m) / sxx)). */
static void trend_model(size_t n, linear_model *model)
{
    double m = ((double)n - 1.0) / 2.0, sxx = 0.0;
    for (size_t i = 0; i < n; i++)
        sxx += ((double)i - m) * ((double)i - m);
    for (size_t i = 0; i < n; i++)
        model->w[i] = 1.0 / (double)n + ((double)i - m) * ((double)n - m) / sxx;
    model->n = n;
    model->bias = 0.0;
    model->version = 0;
}

/* Reads the deployed model @p v for windows of @p n values. Returns 1, or 0 after setting the message. */
static int read_model(mlf_task_ctx *ctx, const mlf_value *v, size_t n, linear_model *model)
{
    if (mlf_value_type(v) != MLF_MAP) {
        mlf_ctx_set_message(ctx, "linreg_forecast: model must be a map {version, window, weights, bias} or null, "
                                 "not %s", mlf_type_name(mlf_value_type(v)));
        return 0;
    }
    int64_t window = 0;
    if (mlf_value_get_int(mlf_map_get(v, "version"), &model->version) != MLF_OK || model->version < 1 ||
        mlf_value_get_int(mlf_map_get(v, "window"), &window) != MLF_OK) {
        mlf_ctx_set_message(ctx, "linreg_forecast: model.version must be an integer >= 1 and model.window an integer");
        return 0;
    }
    if (window != (int64_t)n) {
        mlf_ctx_set_message(ctx, "linreg_forecast: model v%lld takes windows of %lld closes, the series has %zu",
                            (long long)model->version, (long long)window, n);
        return 0;
    }
    model->bias = 0.0;
    const mlf_value *bias = mlf_map_get(v, "bias");
    if (bias && !finite_number(bias, &model->bias)) {
        mlf_ctx_set_message(ctx, "linreg_forecast: model.bias must be a finite number");
        return 0;
    }
    model->n = n;
    const mlf_value *w = mlf_map_get(v, "weights");
    long got = -1;
    if (mlf_value_type(w) == MLF_STR) {
        got = parse_number_text(mlf_value_get_str(w, NULL), model->w, n);
    } else if (mlf_value_type(w) == MLF_ARRAY && mlf_value_len(w) <= n) {
        got = (long)mlf_value_len(w);
        for (size_t i = 0; got >= 0 && i < (size_t)got; i++)
            if (!finite_number(mlf_array_at(w, i), &model->w[i]))
                got = -1;
    }
    if (got != (long)n) {
        mlf_ctx_set_message(ctx, "linreg_forecast: model v%lld: weights must be %zu finite numbers (a list, or a "
                                 "string such as \"[0.1, 0.9]\")", (long long)model->version, n);
        return 0;
    }
    return 1;
}

/* Forecasts @p horizon steps from @p window (n values, modified: it slides) into @p out (normalised). */
static void forecast(const linear_model *model, double *window, size_t n, int64_t horizon, double *out)
{
    for (int64_t h = 0; h < horizon; h++) {
        double next = model->bias;
        for (size_t i = 0; i < n; i++)
            next += model->w[i] * window[i];
        out[h] = next;
        memmove(window, window + 1, (n - 1) * sizeof *window);
        window[n - 1] = next;
    }
}

/* The XCom return_value: {coin, last, predicted, change, model_version}, or NULL when memory runs out. */
static mlf_value *result_value(const char *coin, double last, const double *pred, int64_t horizon, int64_t version)
{
    mlf_value *res = mlf_value_map(), *list = mlf_value_array();
    int rc = res && list ? MLF_OK : MLF_ENOMEM;
    for (int64_t h = 0; rc == MLF_OK && h < horizon; h++)
        rc = mlf_array_append(list, mlf_value_float(pred[h]));
    if (rc == MLF_OK)
        rc = mlf_map_set(res, "coin", mlf_value_str(coin));
    if (rc == MLF_OK)
        rc = mlf_map_set(res, "last", mlf_value_float(last));
    if (rc == MLF_OK) {
        rc = mlf_map_set(res, "predicted", list);
        list = NULL;
    }
    if (rc == MLF_OK)
        rc = mlf_map_set(res, "change", mlf_value_float(last > 0.0 ? pred[0] / last - 1.0 : 0.0));
    if (rc == MLF_OK)
        rc = mlf_map_set(res, "model_version", mlf_value_int(version));
    mlf_value_free(list);
    if (rc != MLF_OK) {
        mlf_value_free(res);
        return NULL;
    }
    return res;
}

static mlf_outcome forecast_execute(mlf_task_ctx *ctx, void *data)
{
    (void)data;
    const mlf_value *series = mlf_ctx_param(ctx, "series");
    const char *coin = mlf_value_get_str(mlf_map_get(series, "coin"), NULL);
    double mean = 0.0, std = 0.0;
    if (mlf_value_type(series) != MLF_MAP || !coin || !*coin || !finite_number(mlf_map_get(series, "mean"), &mean) ||
        !finite_number(mlf_map_get(series, "std"), &std) || !(std > 0.0)) {
        mlf_ctx_set_message(ctx, "linreg_forecast: series must be a map {coin: non-empty str, z: [numbers], mean: "
                                 "number, std: number > 0}");
        return MLF_FAILED_NO_RETRY;
    }
    int64_t horizon = 0;
    if (mlf_value_get_int(mlf_ctx_param(ctx, "horizon"), &horizon) != MLF_OK || horizon < 1 ||
        horizon > FORECAST_MAX_HORIZON) {
        mlf_ctx_set_message(ctx, "linreg_forecast: horizon must be an integer from 1 to %d", FORECAST_MAX_HORIZON);
        return MLF_FAILED_NO_RETRY;
    }
    linear_model model; /* about 20 KiB of stack with the two arrays: no allocation to fail */
    double window[FORECAST_MAX_WINDOW], pred[FORECAST_MAX_HORIZON];
    size_t n = read_window(ctx, coin, mlf_map_get(series, "z"), window);
    if (n == 0)
        return MLF_FAILED_NO_RETRY;
    const mlf_value *mv = mlf_ctx_param(ctx, "model");
    if (mlf_value_type(mv) == MLF_NIL)
        trend_model(n, &model);
    else if (!read_model(ctx, mv, n, &model))
        return MLF_FAILED_NO_RETRY;
    double last = mean + std * window[n - 1];
    forecast(&model, window, n, horizon, pred);
    for (int64_t h = 0; h < horizon; h++)
        pred[h] = mean + std * pred[h];
    char by[64];
    if (model.version)
        snprintf(by, sizeof by, "model v%lld", (long long)model.version);
    else
        snprintf(by, sizeof by, "a trend line through %zu closes", n);
    mlf_ctx_log(ctx, MLF_LOG_INFO, "%s: last close %.6g, next %.6g (%+.2f%%), %lld day(s) forecast with %s", coin,
                last, pred[0], last > 0.0 ? (pred[0] / last - 1.0) * 100.0 : 0.0, (long long)horizon, by);
    mlf_value *res = result_value(coin, last, pred, horizon, model.version);
    int rc = res ? mlf_ctx_xcom_push(ctx, NULL, res) : MLF_ENOMEM;
    if (rc != MLF_OK) {
        mlf_ctx_set_message(ctx, "linreg_forecast: pushing the forecast: %s", mlf_strerror(rc));
        return MLF_FAILED;
    }
    return MLF_SUCCESS;
}

static const mlf_operator_desc forecast_operator = {
    .struct_size = sizeof(mlf_operator_desc),
    .name = "linreg_forecast",
    .help = "Forecasts one coin's next closes from a z-scored window with a linear model (the deployed one, or a "
            "trend line); pushes {coin, last, predicted, change, model_version}.",
    .params = forecast_params,
    .execute = forecast_execute,
};

static int forecast_init(mlf_registry *reg)
{
    return mlf_register_operator(reg, &forecast_operator);
}

MLF_PLUGIN("forecast", "1.0.0", "Example out-of-tree plugin: the crypto_ml example's linear forecast operator",
           forecast_init, NULL);
