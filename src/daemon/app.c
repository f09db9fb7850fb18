/* Accessors of the shared daemon context (include/attendd/app.h) used by library code, so the
 * library links without src/main.c (the tests link the HTTP layer's route table). */
#include "attendd/app.h"

#include <pthread.h>
#include <stdio.h>

void app_gallery_error(struct app *app, char *out, size_t len)
{
    pthread_mutex_lock(&app->status_lock);
    snprintf(out, len, "%s", app->gallery_error);
    pthread_mutex_unlock(&app->status_lock);
}
