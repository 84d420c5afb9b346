/*
 * libxmppc example: build a chat message and print it as XML.
 * SPDX-License-Identifier: MIT
 *
 * The address is prepared as a JID (lower-cased domain and localpart) and
 * the body escaped; invalid input would come back as XMPPC_EINVAL with a
 * message saying what is wrong.
 */
#include <stdio.h>

#include <xmppc/xmppc.h>

int main(void)
{
    xmppc_stanza *msg = NULL;
    char *xml = NULL;
    int rc = xmppc_message_new(&msg, "chat", "Juliet@Capulet.example/balcony",
                               "Art thou <there>?");
    if (rc == 0)
        rc = xmppc_stanza_to_string(&xml, NULL, msg);
    if (rc == 0)
        puts(xml);
    else
        fprintf(stderr, "xmppc: %s\n", xmppc_error_last()->message);
    xmppc_free(xml);
    xmppc_stanza_unref(msg);
    return rc < 0;
}
