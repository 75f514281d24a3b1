// RawIdIndex: every id maps to its position (100,000 ids, so probes collide), unknown and
// prefix/suffix ids are -1, the empty string is an id like any other, and a repeated id is an
// error naming it and both positions.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/check.h"
#include "serving/raw_id_index.h"

using divrec::serving::RawIdIndex;

TEST(RawIdIndex, FindsEveryIdAndNothingElse) {
  std::vector<std::string> ids;
  for (int i = 0; i < 100000; ++i) ids.push_back("B" + std::to_string(i * 7919 % 1000003));
  ids.push_back("");
  const RawIdIndex index(&ids, "test");
  EXPECT_EQ(index.size(), ids.size());
  EXPECT_GE(index.bytes(), 2 * ids.size() * sizeof(int32_t));
  for (size_t i = 0; i < ids.size(); ++i) ASSERT_EQ(index.find(ids[i]), static_cast<int32_t>(i));
  EXPECT_EQ(index.find("B"), -1);
  EXPECT_EQ(index.find("B7919x"), -1);
  EXPECT_EQ(index.find("7919"), -1);
  EXPECT_EQ(RawIdIndex().find("B0"), -1);
}

TEST(RawIdIndex, RepeatedIdIsAnErrorNamingIt) {
  const std::vector<std::string> ids = {"a", "b", "c", "b"};
  try {
    RawIdIndex index(&ids, "serving artifact 'm.h5'");
    FAIL() << "no error for a repeated id";
  } catch (const divrec::Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("serving artifact 'm.h5'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("raw item id 'b' appears twice (dense ids 1 and 3)"), std::string::npos)
        << msg;
  }
}
