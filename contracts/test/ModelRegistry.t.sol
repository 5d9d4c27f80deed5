// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "./utils/Test.sol";
import {IInference, INFERENCE_ADDRESS} from "../src/IInference.sol";
import {
    IModelRegistry,
    MODEL_REGISTRY,
    MODEL_REGISTRY_ADDRESS,
    MAX_CHUNK_PAYLOAD,
    ROLE_REGISTRANT,
    ROLE_ADMIN,
    InfoWord
} from "../src/IModelRegistry.sol";
import {DataContract} from "../src/DataContract.sol";
import {MockInference} from "../src/MockInference.sol";

/// The registry's committed genesis artifact at 0x...0A01, with MockInference
/// standing in for the precompile's validate.
contract ModelRegistryTest is Test {
    MockInference mock;
    IModelRegistry registry = MODEL_REGISTRY;

    address alice = address(0xA11CE);
    address bob = address(0xB0B);
    address admin = address(0xAD);

    function setUp() public {
        mock = installMock();
        installRegistry();
    }

    // ---- helpers ----

    /// n pseudo-random bytes.
    function blob(uint256 n, uint256 seed) internal pure returns (bytes memory b) {
        b = new bytes(n);
        for (uint256 i = 0; i < n; i += 32) {
            bytes32 h = keccak256(abi.encode(seed, i));
            for (uint256 j = 0; j < 32 && i + j < n; j++) {
                b[i + j] = h[j];
            }
        }
    }

    function slice(bytes memory b, uint256 from, uint256 to) internal pure returns (bytes memory out) {
        out = new bytes(to - from);
        for (uint256 i = from; i < to; i++) {
            out[i - from] = b[i];
        }
    }

    /// Uploads raw in chunks of at most `size` bytes, as the CLI does.
    function uploadAll(bytes memory raw, uint256 size) internal returns (address[] memory chunks) {
        chunks = new address[]((raw.length + size - 1) / size);
        for (uint256 i = 0; i < chunks.length; i++) {
            uint256 end = (i + 1) * size < raw.length ? (i + 1) * size : raw.length;
            chunks[i] = registry.upload(slice(raw, i * size, end));
        }
    }

    function packed(address[] memory chunks) internal pure returns (bytes memory list) {
        for (uint256 i = 0; i < chunks.length; i++) {
            list = abi.encodePacked(list, chunks[i]);
        }
    }

    function mappingSlot(bytes32 key, uint256 slot) internal pure returns (bytes32) {
        return keccak256(abi.encode(key, slot));
    }

    function makeAdmin(address a) internal {
        // As genesis does: roleOf[a] = ROLE_ADMIN in slot 5's mapping.
        vm.store(MODEL_REGISTRY_ADDRESS, mappingSlot(bytes32(uint256(uint160(a))), 5), bytes32(ROLE_ADMIN));
    }

    // ---- upload ----

    function test_UploadDeploysADataContract() public {
        bytes memory payload = blob(1000, 1);
        address want = DataContract.addressOf(MODEL_REGISTRY_ADDRESS, keccak256(payload), payload);
        assertEq(registry.chunkAddress(payload), want, "chunkAddress");
        vm.expectEmit(true, true, true, true, MODEL_REGISTRY_ADDRESS);
        emit IModelRegistry.ChunkUploaded(want, keccak256(payload), 1000);
        address chunk = registry.upload(payload);
        assertEq(chunk, want, "address");
        assertEq(chunk.code, abi.encodePacked(hex"fe", payload), "code is 0xFE || payload");
        assertEq(DataContract.read(chunk), payload, "read back");
    }

    function test_UploadInitCodeIsTheGoOne() public pure {
        // vm.DataContractInitCode([]byte{0xaa, 0xbb}) in Go.
        assertEq(DataContract.initCode(hex"aabb"), hex"610003" hex"80600c6000396000f3" hex"fe" hex"aabb", "init code");
    }

    function test_CallingAChunkHalts() public {
        address chunk = registry.upload(hex"00");
        (bool ok,) = chunk.call{gas: 100_000}(hex"");
        assertFalse(ok, "a data contract must halt");
    }

    function test_UploadIsIdempotent() public {
        bytes memory payload = blob(77, 2);
        address first = registry.upload(payload);
        vm.recordLogs();
        vm.prank(bob);
        address second = registry.upload(payload);
        assertEq(second, first, "same address");
        assertEq(vm.getRecordedLogs().length, 0, "no event the second time");
    }

    function test_UploadSizes() public {
        vm.expectRevert(IModelRegistry.EmptyPayload.selector);
        registry.upload("");
        bytes memory max = blob(MAX_CHUNK_PAYLOAD, 3);
        address chunk = registry.upload(max);
        assertEq(chunk.code.length, 24_576, "a full chunk is EIP-170's limit");
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.PayloadTooLarge.selector, 24_576, MAX_CHUNK_PAYLOAD));
        registry.upload(blob(MAX_CHUNK_PAYLOAD + 1, 3));
    }

    function testFuzz_UploadStoresPayload(bytes calldata payload) public {
        if (payload.length == 0 || payload.length > MAX_CHUNK_PAYLOAD) return;
        address chunk = registry.upload(payload);
        assertEq(chunk.code, abi.encodePacked(hex"fe", payload), "code");
        assertEq(chunk, registry.chunkAddress(payload), "address");
    }

    // ---- register ----

    function test_RegisterRecordsAModelInChunks() public {
        bytes memory raw = blob(60_000, 4);
        bytes32 id = keccak256(raw);
        address[] memory chunks = uploadAll(raw, MAX_CHUNK_PAYLOAD);
        assertEq(chunks.length, 3, "three chunks");
        (, uint256 info) = mock.validate(chunks);
        address manifest = registry.manifestAddress(id, chunks);
        assertEq(manifest, DataContract.addressOf(MODEL_REGISTRY_ADDRESS, id, packed(chunks)), "manifest address");

        vm.expectEmit(true, true, true, true, MODEL_REGISTRY_ADDRESS);
        emit IModelRegistry.ModelRegistered(id, alice, manifest, info, "ipfs://model-card");
        vm.prank(alice);
        bytes32 got = registry.register(chunks, "ipfs://model-card");

        assertEq(got, id, "id is keccak256 of the bytes");
        assertTrue(registry.isRegistered(id), "registered");
        assertEq(registry.manifestOf(id), manifest, "manifestOf");
        assertEq(manifest.code, abi.encodePacked(hex"fe", packed(chunks)), "manifest lists the chunks, 20 bytes each");
        assertEq(registry.infoOf(id), info, "infoOf");
        assertEq(registry.ownerOf(id), alice, "ownerOf");
        assertEq(registry.metadataOf(id), "ipfs://model-card", "metadataOf");
        address[] memory listed = registry.chunksOf(id);
        assertEq(listed.length, 3, "chunksOf length");
        for (uint256 i = 0; i < 3; i++) {
            assertEq(listed[i], chunks[i], "chunksOf");
        }
        assertEq(registry.modelSize(id), 60_000, "size");
        assertEq(registry.modelGas(id), 2_000 + 60_000 / 16, "gas (the mock's default)");
    }

    function test_RegisterStoresWhatValidateReturns() public {
        bytes memory raw = blob(500, 5);
        bytes32 id = keccak256(raw);
        // The mock's validate reports the figures of a model configured with this id.
        MockInference.InputTensor[] memory inputs = new MockInference.InputTensor[](2);
        inputs[0] = MockInference.InputTensor(1, 10, 0); // int8[10]
        inputs[1] = MockInference.InputTensor(2, 3, 0); // int16[3]
        mock.setModel(id, inputs, 7, 123_456);
        mock.declareFreshness(id, 2, 60, 0, 0);
        address[] memory chunks = uploadAll(raw, 200);
        registry.register(chunks, "");

        uint256 w = registry.infoOf(id);
        assertEq(w, InfoWord.pack(123_456, 500, 16, 7, 13, 1), "info word");
        assertEq(InfoWord.version(w), 1, "version");
        assertEq(registry.modelGas(id), 123_456, "gas");
        assertEq(registry.modelSize(id), 500, "size");
        assertEq(registry.modelInputBytes(id), 16, "input bytes");
        assertEq(registry.modelOutputBytes(id), 7, "output bytes");
        assertEq(registry.modelInputElements(id), 13, "input elements");
        assertEq(registry.modelFreshnessCount(id), 1, "freshness count");
        IModelRegistry.Model memory m = registry.model(id);
        assertEq(m.owner, address(this), "model.owner");
        assertEq(m.manifest, registry.manifestOf(id), "model.manifest");
        assertEq(m.gas, 123_456, "model.gas");
        assertEq(m.inputElements, 13, "model.inputElements");
    }

    /// Slots 0 and 1 are what the precompile reads (vm/modelstore.go); 2 to 5
    /// are what genesis writes (contracts/registry.go).
    function test_StorageLayoutIsConsensus() public {
        bytes memory raw = blob(100, 6);
        address[] memory chunks = uploadAll(raw, 100);
        vm.prank(alice);
        bytes32 id = registry.register(chunks, "meta");
        assertEq(
            vm.load(MODEL_REGISTRY_ADDRESS, mappingSlot(id, 0)),
            bytes32(uint256(uint160(registry.manifestOf(id)))),
            "slot 0: manifestOf"
        );
        assertEq(vm.load(MODEL_REGISTRY_ADDRESS, mappingSlot(id, 1)), bytes32(registry.infoOf(id)), "slot 1: infoOf");
        assertEq(vm.load(MODEL_REGISTRY_ADDRESS, mappingSlot(id, 2)), bytes32(uint256(uint160(alice))), "slot 2: ownerOf");
        // A short string: the bytes left-aligned, length * 2 in the last byte.
        assertEq(vm.load(MODEL_REGISTRY_ADDRESS, mappingSlot(id, 3)), bytes32(abi.encodePacked("meta", new bytes(27), uint8(8))), "slot 3: metadataOf");

        makeAdmin(admin);
        vm.prank(admin);
        registry.setAllowListEnabled(true);
        assertEq(vm.load(MODEL_REGISTRY_ADDRESS, bytes32(uint256(4))), bytes32(uint256(1)), "slot 4: allowListEnabled");
        vm.prank(admin);
        registry.setRole(bob, ROLE_REGISTRANT);
        assertEq(vm.load(MODEL_REGISTRY_ADDRESS, mappingSlot(bytes32(uint256(uint160(bob))), 5)), bytes32(uint256(1)), "slot 5: roleOf");

        // And the other way round: state written to the slots is what the registry reports.
        bytes32 other = keccak256("genesis model");
        vm.store(MODEL_REGISTRY_ADDRESS, mappingSlot(other, 1), bytes32(InfoWord.pack(9, 8, 7, 6, 5, 0)));
        vm.store(MODEL_REGISTRY_ADDRESS, mappingSlot(other, 2), bytes32(uint256(uint160(bob))));
        assertTrue(registry.isRegistered(other), "a genesis model is registered");
        assertEq(registry.ownerOf(other), bob, "genesis owner");
        assertEq(registry.modelGas(other), 9, "genesis gas");
    }

    function test_RegisterRefusesAnAlreadyRegisteredModel() public {
        address[] memory chunks = uploadAll(blob(3000, 7), 1000);
        bytes32 id = registry.register(chunks, "");
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.AlreadyRegistered.selector, id));
        vm.prank(bob);
        registry.register(chunks, "again");
        // The same bytes in other chunks are the same model.
        address[] memory other = uploadAll(blob(3000, 7), 1500);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.AlreadyRegistered.selector, id));
        registry.register(other, "");
    }

    function test_RegisterBubblesThePrecompilesRefusal() public {
        // Not a data contract: the precompile's InvalidModel, as it is.
        address notData = address(0xC0DE);
        vm.etch(notData, hex"6000");
        address[] memory chunks = new address[](1);
        chunks[0] = notData;
        vm.expectRevert(
            abi.encodeWithSelector(
                IInference.InvalidModel.selector, "chunk 0 is not a data contract (its code must start with 0xFE)"
            )
        );
        registry.register(chunks, "");

        // Bytes that do not decode.
        bytes memory raw = blob(64, 8);
        mock.setInvalid(keccak256(raw), "header.magic: not a model");
        chunks = uploadAll(raw, 64);
        vm.expectRevert(abi.encodeWithSelector(IInference.InvalidModel.selector, "header.magic: not a model"));
        registry.register(chunks, "");

        // No chunks.
        vm.expectRevert(abi.encodeWithSelector(IInference.BadInput.selector, "0 chunks; a model has 1 to 1024"));
        registry.register(new address[](0), "");
        // Nothing was recorded.
        assertFalse(registry.isRegistered(keccak256(raw)), "not registered");
    }

    function test_RegisterWithoutAPrecompile() public {
        vm.etch(INFERENCE_ADDRESS, hex"00"); // STOP: answers nothing
        address[] memory chunks = uploadAll(blob(10, 9), 10);
        vm.expectRevert(IModelRegistry.ValidatorUnavailable.selector);
        registry.register(chunks, "");
    }

    function test_ViewsOfAnUnknownModel() public {
        bytes32 id = keccak256("nothing");
        assertFalse(registry.isRegistered(id), "isRegistered");
        assertEq(registry.modelGas(id), 0, "gas");
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.ModelNotRegistered.selector, id));
        registry.model(id);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.ModelNotRegistered.selector, id));
        registry.chunksOf(id);
    }

    // ---- owners ----

    function test_OwnerManagesTheModel() public {
        address[] memory chunks = uploadAll(blob(10, 10), 10);
        vm.prank(alice);
        bytes32 id = registry.register(chunks, "v1");

        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.NotModelOwner.selector, id, bob));
        vm.prank(bob);
        registry.setMetadata(id, "hijack");

        string memory long = "a model card long enough to take several storage words, which is stored apart";
        vm.expectEmit(true, true, true, true, MODEL_REGISTRY_ADDRESS);
        emit IModelRegistry.MetadataChanged(id, long);
        vm.prank(alice);
        registry.setMetadata(id, long);
        assertEq(registry.metadataOf(id), long, "metadata");

        vm.expectRevert(IModelRegistry.ZeroOwner.selector);
        vm.prank(alice);
        registry.transferModelOwnership(id, address(0));

        vm.expectEmit(true, true, true, true, MODEL_REGISTRY_ADDRESS);
        emit IModelRegistry.ModelOwnershipTransferred(id, alice, bob);
        vm.prank(alice);
        registry.transferModelOwnership(id, bob);
        assertEq(registry.ownerOf(id), bob, "new owner");

        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.NotModelOwner.selector, id, alice));
        vm.prank(alice);
        registry.setMetadata(id, "v2");
        vm.prank(bob);
        registry.setMetadata(id, "v2");
        assertEq(registry.metadataOf(id), "v2", "metadata by the new owner");

        bytes32 unknown = keccak256("unknown");
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.ModelNotRegistered.selector, unknown));
        registry.setMetadata(unknown, "x");
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.ModelNotRegistered.selector, unknown));
        registry.transferModelOwnership(unknown, bob);
    }

    // ---- allow-list ----

    function test_AllowList() public {
        makeAdmin(admin);
        assertTrue(registry.canRegister(bob), "open by default");

        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.NotAdmin.selector, bob));
        vm.prank(bob);
        registry.setAllowListEnabled(true);

        vm.expectEmit(true, true, true, true, MODEL_REGISTRY_ADDRESS);
        emit IModelRegistry.AllowListEnabledChanged(true, admin);
        vm.prank(admin);
        registry.setAllowListEnabled(true);
        assertTrue(registry.allowListEnabled(), "enabled");
        assertFalse(registry.canRegister(bob), "bob may not");
        assertTrue(registry.canRegister(admin), "an admin may");

        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.NotAllowed.selector, bob));
        vm.prank(bob);
        registry.upload(hex"01");
        address[] memory chunks = uploadAllAs(admin, blob(10, 11));
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.NotAllowed.selector, bob));
        vm.prank(bob);
        registry.register(chunks, "");

        vm.expectEmit(true, true, true, true, MODEL_REGISTRY_ADDRESS);
        emit IModelRegistry.RoleChanged(bob, 0, ROLE_REGISTRANT, admin);
        vm.prank(admin);
        registry.setRole(bob, ROLE_REGISTRANT);
        assertEq(registry.roleOf(bob), ROLE_REGISTRANT, "role");
        vm.prank(bob);
        registry.register(chunks, "");

        // A registrant is not an admin.
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.NotAdmin.selector, bob));
        vm.prank(bob);
        registry.setRole(alice, ROLE_REGISTRANT);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.InvalidRole.selector, 3));
        vm.prank(admin);
        registry.setRole(alice, 3);

        // Revoked, then the list switched off: anyone again.
        vm.prank(admin);
        registry.setRole(bob, 0);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.NotAllowed.selector, bob));
        vm.prank(bob);
        registry.upload(hex"02");
        vm.prank(admin);
        registry.setAllowListEnabled(false);
        vm.prank(bob);
        registry.upload(hex"02");

        // Admins make admins.
        vm.prank(admin);
        registry.setRole(alice, ROLE_ADMIN);
        vm.prank(alice);
        registry.setAllowListEnabled(true);
    }

    function test_NoAdminNoRoleChanges() public {
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.NotAdmin.selector, address(this)));
        registry.setRole(address(this), ROLE_ADMIN);
    }

    function uploadAllAs(address who, bytes memory raw) internal returns (address[] memory chunks) {
        vm.startPrank(who);
        chunks = uploadAll(raw, raw.length);
        vm.stopPrank();
    }
}
