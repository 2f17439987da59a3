/* A shared object that is not an mlflowd plugin: it exports no mlf_plugin_entry. */
int not_a_plugin(void);
int not_a_plugin(void)
{
    return 42;
}
