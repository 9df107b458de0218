/*
 * fuzz_graphs.h
 *	  The revision graphs of test/alembic/fixtures/NAME.hist, frozen for
 *	  fuzz_target.c: the first byte of an input selects one of them by its
 *	  index here, so the indexes must not change once regression inputs use
 *	  them.  Add new graphs at the end only.  Each graph is the fixture's
 *	  "rev" lines (see test/unit/mg_replay.c for their syntax).
 *
 *	  Generated once with:
 *	  for f in test/alembic/fixtures/[a-z]*.hist; do grep '^rev ' "$f"; done
 */
#ifndef FUZZ_GRAPHS_H
#define FUZZ_GRAPHS_H

typedef struct FuzzGraphSpec
{
	const char *name;
	const char *revs;
} FuzzGraphSpec;

static const FuzzGraphSpec fuzz_graphs[] = {
	{"br",
		"rev a\n"
		"rev b down=a\n"
		"rev c1 down=b labels=c1branch\n"
		"rev c2 down=b labels=c2branch\n"
		"rev d1 down=c1\n"
		"rev d2 down=c2\n"
	},
	{"dep_label",
		"rev base1 labels=b_1\n"
		"rev a1 down=base1\n"
		"rev b1 down=a1\n"
		"rev c1 down=b1\n"
		"rev base2 deps=b_1 labels=b_2\n"
		"rev a2 down=base2\n"
		"rev b2 down=a2\n"
		"rev c2 down=b2\n"
		"rev d2 down=c2\n"
		"rev base3 labels=b_3\n"
		"rev a3 down=base3\n"
		"rev b3 down=a3\n"
		"rev c3 down=b3 deps=b2\n"
		"rev d3 down=c3\n"
	},
	{"dep_multibase",
		"rev base1 labels=b_1\n"
		"rev a1a down=base1\n"
		"rev a1b down=base1\n"
		"rev b1a down=a1a\n"
		"rev b1b down=a1b deps=a3\n"
		"rev base2 labels=b_2\n"
		"rev a2 down=base2\n"
		"rev b2 down=a2\n"
		"rev c2 down=b2 deps=a3\n"
		"rev d2 down=c2\n"
		"rev base3 labels=b_3\n"
		"rev a3 down=base3\n"
		"rev b3 down=a3\n"
	},
	{"diamond",
		"rev a\n"
		"rev b down=a\n"
		"rev c1 down=b\n"
		"rev c2 down=b\n"
		"rev d down=c1,c2 message=merge c1 and c2\n"
	},
	{"errors",
		"rev a\n"
		"rev b down=a\n"
		"rev c1 down=b labels=c1branch\n"
		"rev c2 down=b labels=c2branch\n"
		"rev d1 down=c1\n"
		"rev d2 down=c2\n"
		"rev z1 labels=zbranch\n"
		"rev z2 down=z1\n"
	},
	{"forest",
		"rev a1 labels=onebranch\n"
		"rev b1 down=a1\n"
		"rev a2 labels=twobranch\n"
		"rev b2 down=a2\n"
	},
	{"history",
		"rev a\n"
		"rev b down=a\n"
		"rev c1 down=b labels=c1branch\n"
		"rev d1 down=c1\n"
		"rev e1 down=d1\n"
		"rev c2 down=b labels=c2branch\n"
		"rev d2 down=c2\n"
	},
	{"history_relative",
		"rev a\n"
		"rev b down=a labels=L\n"
		"rev c down=b\n"
		"rev d\n"
	},
	{"invenio",
		"rev dbbase labels=invenio_db message=Create alembic_version table.\n"
		"rev e12419831262 down=dbbase labels=invenio_accounts message=Create accounts branch.\n"
		"rev 9848d0149abd down=e12419831262 message=Create accounts tables.\n"
		"rev e2ba14c4cc2d down=9848d0149abd message=Change AccountsUser.email length.\n"
		"rev 862037093962 down=dbbase labels=invenio_records message=Create records branch.\n"
		"rev 07fb52561c5c down=862037093962 message=Create records tables.\n"
		"rev bf8a6e0fe6f4 down=07fb52561c5c message=Add version_id to records.\n"
		"rev a26f133d42a9 down=bf8a6e0fe6f4 message=Add index on records metadata.\n"
		"rev 4abd2ae1a6b8 down=dbbase labels=invenio_rdm_records message=Create RDM records branch.\n"
		"rev 88d4d0c6c6f1 down=4abd2ae1a6b8 deps=invenio_records message=Create RDM records tables.\n"
		"rev 9e0ac518b9df down=88d4d0c6c6f1 deps=bf8a6e0fe6f4 message=Add RDM parent records.\n"
		"rev 3f1c0a2b7d44 down=e2ba14c4cc2d,9e0ac518b9df message=Merge accounts and rdm records.\n"
		"rev 5c2d9e8f1a03 down=3f1c0a2b7d44 message=Add RDM record owners.\n"
	},
	{"invenio_sql",
		"rev dbbase labels=invenio_db message=Create alembic_version table.\n"
		"rev e12419831262 down=dbbase labels=invenio_accounts message=Create accounts branch.\n"
		"rev 9848d0149abd down=e12419831262 message=Create accounts tables.\n"
		"rev e2ba14c4cc2d down=9848d0149abd message=Change AccountsUser.email length.\n"
		"rev 862037093962 down=dbbase labels=invenio_records message=Create records branch.\n"
		"rev 07fb52561c5c down=862037093962 message=Create records tables.\n"
		"rev bf8a6e0fe6f4 down=07fb52561c5c message=Add version_id to records.\n"
		"rev a26f133d42a9 down=bf8a6e0fe6f4 message=Add index on records metadata.\n"
		"rev 4abd2ae1a6b8 down=dbbase labels=invenio_rdm_records message=Create RDM records branch.\n"
		"rev 88d4d0c6c6f1 down=4abd2ae1a6b8 deps=07fb52561c5c message=Create RDM records tables.\n"
		"rev 9e0ac518b9df down=88d4d0c6c6f1 deps=bf8a6e0fe6f4 message=Add RDM parent records.\n"
		"rev 3f1c0a2b7d44 down=e2ba14c4cc2d,9e0ac518b9df message=Merge accounts and rdm records.\n"
		"rev 5c2d9e8f1a03 down=3f1c0a2b7d44 message=Add RDM record owners.\n"
	},
	{"labels",
		"rev l1a\n"
		"rev l1b down=l1a\n"
		"rev l1c down=l1b labels=lone\n"
		"rev l1d down=l1c\n"
		"rev l2a\n"
		"rev l2b down=l2a\n"
		"rev l2c down=l2b labels=ltwo\n"
		"rev l2d down=l2c\n"
		"rev l2x down=l2b\n"
		"rev l3a\n"
		"rev l3b down=l3a\n"
		"rev l3c down=l3b labels=lthree\n"
		"rev l3d down=l3c\n"
		"rev l3e1 down=l3d\n"
		"rev l3e2 down=l3d\n"
		"rev l4a\n"
		"rev l4b down=l4a\n"
		"rev l4c down=l4b labels=lfour\n"
		"rev l4d down=l4c\n"
		"rev l4t deps=l4b\n"
		"rev l5m1\n"
		"rev l5m2\n"
		"rev l5mm down=l5m1,l5m2\n"
		"rev l5c down=l5mm labels=lfive\n"
		"rev l5z down=l5c\n"
	},
	{"listings_sql",
		"rev root message=Root.\n"
		"rev a1 down=root labels=alpha message=Alpha 1.\n"
		"rev a2 down=a1 message=Alpha 2.\n"
		"rev a3 down=a2 message=Alpha 3.\n"
		"rev b1 down=root labels=beta message=Beta 1.\n"
		"rev b2 down=b1 message=Beta 2.\n"
		"rev g1 down=root labels=gamma message=Gamma 1.\n"
		"rev g2 down=g1 deps=alpha message=Gamma 2.\n"
		"rev m down=g2,b2 message=Merge gamma and beta.\n"
	},
	{"mbase",
		"rev base1\n"
		"rev a1a down=base1\n"
		"rev a1b down=base1\n"
		"rev b1a down=a1a\n"
		"rev b1b down=a1b\n"
		"rev base2\n"
		"rev a2 down=base2\n"
		"rev b2 down=a2\n"
		"rev c2 down=b2\n"
		"rev d2 down=c2\n"
		"rev base3\n"
		"rev a3 down=base3\n"
		"rev b3 down=a3\n"
		"rev mergeb3d2 down=b3,d2\n"
	},
	{"merged",
		"rev a\n"
		"rev b down=a\n"
		"rev c1 down=b labels=c1branch\n"
		"rev c2 down=b labels=c2branch\n"
		"rev d1 down=c1\n"
		"rev d2 down=c2\n"
		"rev e down=d1,d2 message=merge d1 and d2\n"
		"rev f down=e\n"
	},
	{"net",
		"rev a1\n"
		"rev a2 down=a1\n"
		"rev n1 labels=networking\n"
		"rev n2 down=n1 deps=a2 message=add ip account table\n"
	},
	{"prefixes",
		"rev 1975ea83b712 message=create account table\n"
		"rev ae1027a6acf0 down=1975ea83b712 message=add a column\n"
		"rev 27c6a30d7c24 down=ae1027a6acf0 labels=shoppingcart message=add shopping cart table\n"
		"rev 548bbb905360 down=27c6a30d7c24 message=add cart items\n"
		"rev 55af2cb1c267 down=ae1027a6acf0 labels=networking message=add networking table\n"
		"rev 27c6b1e4f5a9 down=55af2cb1c267 message=add ip address\n"
		"rev abc\n"
		"rev abcdef012345\n"
		"rev abcdef999999 down=abcdef012345\n"
	},
	{"relative_branches",
		"rev a\n"
		"rev b down=a\n"
		"rev c down=b\n"
		"rev d1 down=c labels=lineone\n"
		"rev e1 down=d1\n"
		"rev f1 down=e1\n"
		"rev d2 down=c labels=linetwo\n"
		"rev e2 down=d2\n"
	},
	{"relative_linear",
		"rev a\n"
		"rev b down=a\n"
		"rev c down=b\n"
		"rev d down=c\n"
		"rev e down=d\n"
	},
	{"rowsets",
		"rev a1\n"
		"rev a2 down=a1\n"
		"rev a3 down=a2\n"
		"rev n1 labels=networking\n"
		"rev n2 down=n1 deps=a2\n"
		"rev p1\n"
		"rev p2 down=p1\n"
		"rev p3 down=p2 deps=q1\n"
		"rev q1\n"
		"rev q2 down=q1 deps=p2\n"
		"rev t\n"
		"rev tb1 down=t\n"
		"rev tb2 down=t\n"
		"rev tb3 down=t\n"
		"rev tc1 down=tb1,tb2,tb3\n"
		"rev tc2 down=tb1,tb2,tb3\n"
		"rev td2 down=tc2\n"
	},
	{"stamp",
		"rev a\n"
		"rev b down=a\n"
		"rev c1 down=b labels=c1branch\n"
		"rev c2 down=b labels=c2branch\n"
		"rev d1 down=c1\n"
		"rev d2 down=c2\n"
		"rev e down=d1,d2\n"
		"rev f down=e\n"
	},
	{"stamp_sql",
		"rev s_a\n"
		"rev s_b down=s_a\n"
		"rev s_c1 down=s_b labels=s1\n"
		"rev s_d1 down=s_c1\n"
		"rev s_c2 down=s_b labels=s2\n"
		"rev s_d2 down=s_c2\n"
	},
	{"targets_sql",
		"rev a1b2c3d4e5f6 message=a\n"
		"rev 5f1a2b3c4d5e down=a1b2c3d4e5f6 message=b\n"
		"rev c1c1c1c1c1c1 down=5f1a2b3c4d5e labels=c1branch message=c1\n"
		"rev d1d1d1d1d1d1 down=c1c1c1c1c1c1 message=d1\n"
		"rev c2c2c2c2c2c2 down=5f1a2b3c4d5e labels=c2branch message=c2\n"
		"rev d2d2d2d2d2d2 down=c2c2c2c2c2c2 message=d2\n"
	},
	{"three_branches",
		"rev root message=Root.\n"
		"rev a1 down=root labels=alpha message=Alpha 1.\n"
		"rev a2 down=a1 message=Alpha 2.\n"
		"rev a3 down=a2 message=Alpha 3.\n"
		"rev b1 down=root labels=beta message=Beta 1.\n"
		"rev b2 down=b1 message=Beta 2.\n"
		"rev g1 down=root labels=gamma message=Gamma 1.\n"
		"rev g2 down=g1 deps=a2 message=Gamma 2.\n"
		"rev m down=g2,b2 message=Merge gamma and beta.\n"
		"rev after_m down=m message=After the merge.\n"
	},
};

#define FUZZ_NGRAPHS ((int) (sizeof(fuzz_graphs) / sizeof(fuzz_graphs[0])))

#endif							/* FUZZ_GRAPHS_H */
